"""Does a run's own record agree with the load model it is filed under? Pure.

A result file carries what k6 measured (`vus_max`, `iterations`); the load model comes from the
script and profile (`LoadFingerprint`). When the two contradict each other (a 12-VU run filed
under a 4-VU script) the run is not of that model and must not be compared with its history.
Only what the model fixes exactly is checked: the peak VUs of a single VU-based scenario and
the iteration count of a single shared-iterations / per-vu-iterations scenario (more iterations
than it runs; fewer happen when `maxDuration` cut the run short).
"""

from __future__ import annotations

from perfgate.models import LoadFingerprint, RunContext

_VU_EXECUTORS = frozenset({"constant-vus", "ramping-vus", "shared-iterations", "per-vu-iterations"})


def expected_max_vus(model: LoadFingerprint) -> int | None:
    """The VUs k6 allocates for a single VU-based scenario (None when the model does not fix it)."""
    if model.extra is not None or model.executor not in _VU_EXECUTORS:
        return None
    targets = [round(stage.target) for stage in model.stages]
    return max([model.vus or 0, *targets]) if model.executor == "ramping-vus" else model.vus


def expected_iterations(model: LoadFingerprint) -> int | None:
    if model.extra is not None or model.iterations is None:
        return None
    if model.executor == "shared-iterations":
        return model.iterations
    if model.executor == "per-vu-iterations" and model.vus is not None:
        return model.iterations * model.vus
    return None


def contradiction(model: LoadFingerprint, context: RunContext) -> str | None:
    """Why the measured run cannot be of `model`, or None when nothing contradicts it."""
    vus = expected_max_vus(model)
    if vus is not None and context.vus_max is not None and context.vus_max != vus:
        return f"the run had {context.vus_max} VUs at most, but the load model ({model.executor}) has {vus}"
    iterations = expected_iterations(model)
    if iterations is not None and context.iterations is not None and context.iterations > iterations:
        return f"the run completed {context.iterations} iterations, but the load model runs {iterations}"
    return None
