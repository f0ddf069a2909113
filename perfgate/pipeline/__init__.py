"""One module per use case: a frozen request in, a frozen result out. The only layer that calls
both adapters and core; it never prints or exits (the face, perfgate/cli/, does).

    analyze    a run (or pooled repeats) against the comparable history → Analysis; record
    reports    one Analysis rendered in every format; a run directory's report files
    run        k6 with a profile (the notes API started when asked), then analyze
    heal       a HealPlan from the history, the profile rewritten, verified with k6 when asked
    publish    a heal committed, pushed, and (PR mode) one pull request opened or updated
    explain    the optional explanation of an Analysis or a heal
    history    locate_history (the one reading of --baselines), list, show, prune, trend
    compare    paired base/head mode
    action     the composite action's steps (action_steps: what they share; action_publish:
               comment, heal, issues)
"""
