"""YAML profiles, rewritten with ruamel.yaml's round trip: only values change.

Comments, key order, quoting, flow style (`- {duration: 10s, target: 10}   # ramp up`) and
indentation are kept. The indentation ruamel should use is found by trying the common layouts
until one round-trips the file byte for byte; a file no layout round-trips is refused rather
than reformatted.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from perfgate.adapters.loadtest_files.common import missing, number_text
from perfgate.adapters.yaml_bounds import check_yaml_bounds
from perfgate.errors import InputDataError
from perfgate.models import HealPlan, Stage, StageChange

LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0))


def _yaml(layout: tuple[int, int, int]) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def load_round_trip(path: Path, text: str) -> tuple[YAML, Any]:
    """The ruamel document and a YAML instance that writes it back unchanged."""
    check_yaml_bounds(text, path)
    for layout in LAYOUTS:
        yaml = _yaml(layout)
        try:
            data = yaml.load(text)
        except YAMLError as exc:
            raise InputDataError(path, f"YAML syntax error: {exc}") from exc
        if _dump(yaml, data) == text:
            return yaml, data
    raise InputDataError(
        path, "this YAML layout cannot be rewritten without reformatting it; edit it by hand"
    )


def rewrite_yaml(path: Path, text: str, plan: HealPlan) -> str:
    yaml, data = load_round_trip(path, text)
    thresholds = data.get("thresholds") or {}
    shared: dict[tuple[int, str], tuple[str, str]] = {}  # (list, old) -> (new, metric): aliases
    for threshold in plan.thresholds:
        items = thresholds.get(threshold.metric)
        if not isinstance(items, list):
            raise missing(path, f"threshold metric {threshold.metric!r}", list(thresholds))
        old = threshold.old or ""
        done = shared.get((id(items), old))
        if done is None:
            _replace_expression(path, items, old, threshold.new)
            shared[(id(items), old)] = (threshold.new, threshold.metric)
        elif done[0] != threshold.new:
            raise InputDataError(
                path,
                f"{threshold.metric} and {done[1]} share one anchored threshold list (&anchor/*alias)"
                f" but the heal wants {threshold.new!r} and {done[0]!r}; give them their own lists",
            )
    for stage in sorted(plan.stages, key=lambda c: c.stage, reverse=True):
        _apply_stage(path, _stage_list(path, data, stage.scenario), stage)
    return _dump(yaml, data)


def _replace_expression(path: Path, items: list[Any], old: str, new: str) -> None:
    for index, item in enumerate(items):
        if isinstance(item, str) and item == old:
            items[index] = type(item)(new) if type(item) is not str else new
            return
        if isinstance(item, dict) and item.get("threshold") == old:
            value = item["threshold"]
            item["threshold"] = type(value)(new) if type(value) is not str else new
            return
    raise missing(path, f"threshold {old!r}", [str(item) for item in items])


def _stage_list(path: Path, data: Any, scenario: str) -> CommentedSeq:
    stages = data.get("stages") if scenario == "default" else None
    if stages is None:
        stages = ((data.get("scenarios") or {}).get(scenario) or {}).get("stages")
    if not isinstance(stages, CommentedSeq):
        raise missing(path, f"the stages of scenario {scenario!r}")
    return stages


def _new_item(template: Any, stage: Stage) -> Any:
    item = CommentedMap()
    for key in template if isinstance(template, dict) else ("duration", "target"):
        if key == "duration":
            item[key] = stage.duration
        elif key == "target":
            item[key] = int(stage.target) if number_text(stage.target).isdigit() else stage.target
        else:
            item[key] = template[key]
    if isinstance(template, CommentedMap) and template.fa.flow_style():
        item.fa.set_flow_style()
    return item


def _apply_stage(path: Path, stages: CommentedSeq, change: StageChange) -> None:
    index = change.stage
    if index >= len(stages):
        raise missing(path, f"stage {index} of scenario {change.scenario!r}")
    template = stages[index]
    if change.kind == "remove_stage":
        del stages[index]
        return
    first, *rest = change.new
    template["duration"] = first.duration
    template["target"] = _new_item(template, first)["target"]
    for offset, stage in enumerate(rest, start=1):
        stages.insert(index + offset, _new_item(template, stage))
