"""Load profiles: k6 options kept as data (YAML or JSON), their load-model fingerprint, and the
JSON file k6 reads with `--config`.

A profile's top-level keys are k6 option names verbatim (`scenarios`, `thresholds`,
`summaryTrendStats`, `tags`, ...). The script exports no options, because script options beat
`--config` in k6.

Fingerprint rule (`compute_fingerprint`): the load model is executor, stages (durations
normalised, so "1m" == "60s"), VUs / start VUs, rate / start rate and time unit, duration, and the
script (sha256 of its text, 16 hex chars). k6's defaults are filled in, so an omitted
`startVUs: 1` equals an explicit one. Thresholds, tags and summary stats are not part of it.
With several scenarios the primary one is the first by name; the others, and load-model fields
`LoadFingerprint` has no slot for (startTime), are hashed into `extra` (16 hex chars).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from perfgate.adapters.json_text import JsonTextError, parse_json
from perfgate.adapters.yaml_bounds import check_yaml_bounds
from perfgate.errors import InputDataError
from perfgate.models import LoadFingerprint, MetricKey, Stage
from perfgate.models.base import Strict

EXECUTORS = (
    "constant-arrival-rate",
    "constant-vus",
    "externally-controlled",
    "per-vu-iterations",
    "ramping-arrival-rate",
    "ramping-vus",
    "shared-iterations",
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


class Profile(Strict):
    """One load profile: k6 options plus the identity of its load model."""

    name: str
    path: Path
    options: dict[str, Any]
    fingerprint: LoadFingerprint


def load_profile(path: Path | str, *, script: Path | None = None) -> Profile:
    """Read a YAML (`.yaml`/`.yml`) or JSON profile; `script` completes the fingerprint."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(path, f"cannot read profile: {exc}") from exc
    options = parse_profile_text(text, source=path, json_format=path.suffix.lower() == ".json")
    try:
        fingerprint = compute_fingerprint(options, script)
    except (TypeError, ValueError) as exc:
        raise InputDataError(path, str(exc)) from exc
    return Profile(name=path.stem, path=path, options=options, fingerprint=fingerprint)


def parse_profile_text(text: str, *, source: object, json_format: bool = False) -> dict[str, Any]:
    """Profile text -> validated k6 options. Errors name `source` and, for syntax, the line."""
    if not json_format:
        check_yaml_bounds(text, source)
    try:
        data = parse_json(text) if json_format else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputDataError(source, f"JSON syntax error at line {exc.lineno}: {exc.msg}") from exc
    except JsonTextError as exc:
        raise InputDataError(source, str(exc)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputDataError(source, f"YAML syntax error{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise InputDataError(source, f"a profile must be a mapping of k6 options, got {_kind(data)}")
    try:
        json.dumps(data, allow_nan=False)
        validate_options(data)
    except (TypeError, ValueError) as exc:
        raise InputDataError(source, str(exc)) from exc
    return data


def validate_options(options: Mapping[str, Any]) -> None:
    """Raise ValueError (one line) for the mistakes k6 would reject or silently misread."""
    if "stages" in options and "scenarios" in options:
        raise ValueError("set either 'stages' or 'scenarios', not both (k6 exits 104)")
    scenarios = options.get("scenarios")
    if scenarios is not None:
        if not isinstance(scenarios, dict) or not scenarios:
            raise ValueError("'scenarios' must be a non-empty mapping of scenario name to settings")
        for name, scenario in scenarios.items():
            _validate_scenario(str(name), scenario)
    if "stages" in options:
        _validate_stages(options["stages"], "'stages'")
    _validate_thresholds(options.get("thresholds", {}))
    stats = options.get("summaryTrendStats", [])
    if not isinstance(stats, list) or not all(isinstance(stat, str) for stat in stats):
        raise ValueError(f"'summaryTrendStats' must be a list of strings, got {stats!r}")


def _validate_scenario(name: str, scenario: object) -> None:
    if not isinstance(scenario, dict):
        raise ValueError(f"scenario {name!r} must be a mapping, got {_kind(scenario)}")
    executor = scenario.get("executor")
    if executor not in EXECUTORS:
        raise ValueError(
            f"unknown executor {executor!r} in scenario {name!r} (one of: {', '.join(EXECUTORS)})"
        )
    if "stages" in scenario:
        _validate_stages(scenario["stages"], f"scenario {name!r}")
    elif executor in ("ramping-vus", "ramping-arrival-rate"):
        raise ValueError(f"scenario {name!r}: executor {executor} needs 'stages'")


def _validate_stages(stages: object, where: str) -> None:
    if not isinstance(stages, list) or not stages:
        raise ValueError(f"{where}: 'stages' must be a non-empty list of {{duration, target}}")
    for stage in stages:
        if not isinstance(stage, dict) or "duration" not in stage:
            raise ValueError(f"{where}: every stage needs a duration and a target, got {stage!r}")
        target = stage.get("target", 0)
        if isinstance(target, bool) or not isinstance(target, int | float):
            raise ValueError(f"{where}: stage target must be a number, got {target!r}")
        normalise_duration(stage["duration"])


def _validate_thresholds(thresholds: object) -> None:
    if not isinstance(thresholds, dict):
        raise ValueError(f"'thresholds' must be a mapping of metric to a list, got {_kind(thresholds)}")
    for metric, items in thresholds.items():
        MetricKey.parse(str(metric))  # ValueError names the bad selector
        if not isinstance(items, list) or not all(_is_threshold(item) for item in items):
            raise ValueError(
                f"thresholds for {metric!r} must be a list of strings or {{threshold: ...}} objects, got {items!r}"
            )


def _is_threshold(item: object) -> bool:
    if isinstance(item, str):
        return True
    return isinstance(item, dict) and isinstance(item.get("threshold"), str)


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def normalise_duration(value: object) -> str:
    """A k6 duration ("1m", "60s", "1m30s", 1500 = ms) -> Go's canonical text ("1m0s")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        nanos = Decimal(str(value)) * 1_000_000
    else:
        text = value.strip()
        if text == "0":
            return "0s"
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(number + unit for number, unit in parts) != text:
            raise ValueError(f"not a duration: {value!r} (use e.g. '30s', '1m30s', '500ms')")
        try:
            nanos = sum((Decimal(number) * _UNIT_NS[unit] for number, unit in parts), Decimal(0))
        except InvalidOperation as exc:
            raise ValueError(f"not a duration: {value!r}") from exc
    if nanos < 0:
        raise ValueError(f"negative duration: {value!r}")
    return _go_duration(int(nanos))


def _go_duration(nanos: int) -> str:
    """Render like Go's time.Duration.String(): 1h0m0s, 1m30s, 1.5s, 500ms."""
    if nanos == 0:
        return "0s"
    if nanos < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if nanos >= size:
                return _decimal_text(Decimal(nanos) / size) + unit
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _decimal_text(Decimal(rest) / 10**9) + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    return f"{minutes}m{seconds}" if minutes else seconds


def _decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def compute_fingerprint(options: Mapping[str, Any], script_path: Path | None) -> LoadFingerprint:
    """The load model of `options` (see the module docstring for the rule)."""
    scenarios = _effective_scenarios(options)
    names = sorted(scenarios)
    fields, extra = _scenario_model(scenarios[names[0]])
    others = {name: _scenario_model(scenarios[name]) for name in names[1:]}
    if others:
        extra["scenarios"] = {name: _plain(model) | more for name, (model, more) in others.items()}
    script = script_digest(script_path) if script_path is not None else None
    extra_digest = _digest(json.dumps(extra, sort_keys=True)) if extra else None
    return LoadFingerprint(**fields, script=script, extra=extra_digest)


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    return LoadFingerprint(**fields).model_dump(exclude={"script", "extra"})


def script_digest(script_path: Path) -> str:
    """sha256 of the script's text (newlines normalised), first 16 hex characters."""
    try:
        text = Path(script_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read script {script_path}: {exc}") from exc
    return _digest(text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _effective_scenarios(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """k6's execution shortcuts turned into the scenario k6 would build from them."""
    if options.get("scenarios"):
        return {str(name): dict(scenario) for name, scenario in options["scenarios"].items()}
    vus = options.get("vus", 1)
    if "stages" in options:
        return {"default": {"executor": "ramping-vus", "startVUs": vus, "stages": options["stages"]}}
    if "iterations" in options:
        scenario = {"executor": "shared-iterations", "vus": vus, "iterations": options["iterations"]}
        if "duration" in options:
            scenario["maxDuration"] = options["duration"]
        return {"default": scenario}
    if "duration" in options:
        return {"default": {"executor": "constant-vus", "vus": vus, "duration": options["duration"]}}
    return {"default": {"executor": "shared-iterations", "vus": vus, "iterations": 1}}


def _scenario_model(scenario: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(LoadFingerprint fields, load-model fields the model has no slot for) of one scenario."""
    executor = str(scenario.get("executor"))
    stages = [
        Stage(duration=normalise_duration(stage["duration"]), target=float(stage.get("target", 0)))
        for stage in scenario.get("stages", [])
    ]
    fields: dict[str, Any] = {"executor": executor, "stages": stages}
    extra: dict[str, Any] = {}
    if executor in ("constant-vus", "ramping-vus", "shared-iterations", "per-vu-iterations"):
        fields["vus"] = int(scenario.get("startVUs" if executor == "ramping-vus" else "vus", 1))
    if executor in ("constant-arrival-rate", "ramping-arrival-rate"):
        rate_key = "rate" if executor == "constant-arrival-rate" else "startRate"
        fields["rate"] = float(scenario.get(rate_key, 0))
        fields["time_unit"] = normalise_duration(scenario.get("timeUnit", "1s"))
    for key in ("duration", "maxDuration"):
        if key in scenario:
            fields["duration"] = normalise_duration(scenario[key])
    if "iterations" in scenario:
        fields["iterations"] = int(scenario["iterations"])
    if "startTime" in scenario:
        extra["startTime"] = normalise_duration(scenario["startTime"])
    return fields, extra


def write_k6_config(profile: Profile, path: Path) -> None:
    """Write the JSON k6 reads with `--config` (sorted keys, so runs diff cleanly)."""
    path.write_text(json.dumps(profile.options, indent=2, sort_keys=True) + "\n", encoding="utf-8")
