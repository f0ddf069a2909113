"""The policy file `perfgate.yml`, read into `perfgate.models.Policy`.

YAML 1.2 (ruamel.yaml, safe loader): `off`, `on`, `yes` and `no` stay strings, so
`healing: {mode: off}` means what it says; duplicate keys are an error. Every problem becomes
one `InputDataError` line naming the file and, for a bad value, the field path and the value:

    perfgate.yml: rules[0].direction: Input should be 'higher_is_worse' or 'lower_is_worse' (got 'up')

`EXAMPLE_POLICY` is the documented example of every setting (a test loads it).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from perfgate.adapters.yaml_bounds import check_yaml_bounds
from perfgate.errors import InputDataError
from perfgate.models import Policy

EXAMPLE_POLICY = """\
# perfgate.yml: what the gate checks, how sure it must be, and the limits healing respects.
# Every key is optional; what is left out keeps the default shown here.
schema_version: 1

# The first rule whose `match` (a glob over k6's metric selector) fits a metric decides how it
# is gated. Listing `rules` replaces the built-in rules entirely.
rules:
  - match: "http_req_duration{name:*}"   # per-endpoint latency (requests tagged with `name`)
    stats: ["p(95)", "p(99)"]            # k6 stat names, verbatim
    direction: higher_is_worse           # or lower_is_worse (throughput, checks)
    unit: ms                             # ms | ratio | per_s | count | score (unitless, e.g. CLS)
    min_change_ratio: 1.10               # smaller relative changes never fail (1.10 = 10 %)
    min_change_abs: 1.0                  # smaller absolute changes never fail, in `unit`
    ceiling: 800                         # SLO: healing never sets a threshold above 800 ms
  - match: http_req_duration             # overall latency: every HTTP run has it
    stats: ["p(95)", "p(99)"]
    direction: higher_is_worse
    unit: ms
    unless_present: "http_req_duration{name:*}"  # judged per endpoint instead when those exist
  - match: "http_req_failed{name:*}"     # per-endpoint error rate
    stats: [rate]
    direction: higher_is_worse
    unit: ratio
    min_change_ratio: 1.0
    min_change_abs: 0.005                # half a point: a 1-point bump measured low still fails
    ceiling: 0.01
  - match: http_req_failed               # overall error rate
    stats: [rate]
    direction: higher_is_worse
    unit: ratio
    min_change_ratio: 1.0
    min_change_abs: 0.01
    ceiling: 0.01
  - match: checks
    stats: [rate]
    direction: lower_is_worse
    unit: ratio
    min_change_ratio: 1.0
    min_change_abs: 0.01
  - match: http_reqs
    stats: [rate]
    direction: lower_is_worse
    unit: per_s
    min_change_ratio: 1.15
  - match: dropped_iterations
    stats: [count]
    direction: higher_is_worse
    unit: count
    min_change_ratio: 1.0
    min_change_abs: 1.0
  # Built in as well: grpc_req_duration, ws_connecting, ws_session_duration, the browser web vitals
  # (browser_web_vital_lcp/fcp/inp/ttfb/fid in ms, browser_web_vital_cls as a score) and
  # iteration_duration with `unless_present: http_req_duration` (runs without HTTP).
  # Sub-metrics without a single sample (k6 exports them as zeros) are never gated.

# Thresholds k6 itself found crossed (its exit code 99): `gate` fails the gate on them,
# `advisory` only reports them.
k6_thresholds: gate

# Known, accepted regressions: they stop failing the gate until `until` (inclusive).
acknowledgements:
  - metric: "http_req_duration{name:search}"   # glob over metric keys
    stat: "p(95)"                               # default "*": every stat
    until: 2026-12-31
    reason: "search index rebuilt nightly; tracked in issue 123"

history:
  min_runs: 5        # comparable runs needed before the gate judges statistically
  keep_runs: 300     # newest runs per scenario kept by `prune`
  compact_after: 100 # runs older than the newest 100 lose raw detail (stages, samples)

healing:
  mode: off          # off | commit | pr
  headroom: 1.15     # healed limits sit at least 15 % above the long-run level
  allow_stage_removal: false
"""

_MAX_VALUE_TEXT = 60


def load_policy(path: Path | None) -> Policy:
    """Read the policy file at `path`; `None` means no file: the built-in defaults."""
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputDataError(path, "policy file not found") from None
    except UnicodeDecodeError:
        raise InputDataError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputDataError(path, f"cannot read: {exc.strerror or exc}") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "perfgate.yml") -> Policy:
    """YAML text -> `Policy`. An empty document means every default."""
    check_yaml_bounds(text, source)
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        raise InputDataError(source, _describe_yaml_error(exc)) from None
    except YAMLError as exc:
        raise InputDataError(source, f"invalid YAML: {_one_line(str(exc))}") from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise InputDataError(
            source, f"expected a mapping of settings at the top level, got {type(data).__name__}"
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise InputDataError(source, describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """pydantic's errors as one line: the first one's field path, problem and value, and how many more."""
    errors = exc.errors(include_url=False)
    if not errors:
        return _one_line(str(exc))
    text = _describe_detail(errors[0])
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def _describe_detail(error: ErrorDetails) -> str:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    text = f"{path}: {error['msg']}" if path else error["msg"]
    value = error.get("input")
    if error["type"] != "missing" and (value is None or isinstance(value, str | int | float)):
        shown = repr(value)
        if len(shown) > _MAX_VALUE_TEXT:
            shown = shown[: _MAX_VALUE_TEXT - 3] + "..."
        text += f" (got {shown})"
    return _one_line(text)


def _describe_yaml_error(exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = exc.problem or str(exc)
    if exc.context:
        problem += f" ({exc.context})"
    return _one_line(f"invalid YAML{where}: {problem}")


def _one_line(text: str) -> str:
    return " ".join(text.split())
