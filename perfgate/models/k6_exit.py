"""k6's exit codes in words, and the ones that make a run broken (issue 12)."""

from __future__ import annotations

# k6's exit codes (`errext/exitcodes`, the same in k6 1.x and 2.x; 2.x also returns 97 for a cloud
# run aborted for any reason but a threshold, where 1.x returned 0). 0 and 99 are a completed run.
K6_EXIT_MEANINGS: dict[int, str] = {
    0: "completed",
    97: "cloud test run aborted, not by a threshold (k6 2.x)",
    98: "lost the cloud test run's progress",
    99: "thresholds crossed",
    100: "setup() timed out",
    101: "teardown() timed out",
    102: "timed out",
    103: "stopped through the REST API",
    104: "invalid options or configuration",
    105: "interrupted",
    106: "cannot start the REST API",
    107: "script error",
    108: "test aborted by the script",
    109: "k6 crashed (Go panic)",
    110: "test marked as failed by the script",
    255: "k6 could not run",
}
# Exit codes after which the run's numbers are no baseline: the test did not run as written.
# k6 writes no summary for 104 and 107 (it never started), and one for 108 and 110.
BROKEN_EXIT_CODES = frozenset({104, 107, 108, 110})
