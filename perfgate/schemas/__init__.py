"""JSON Schemas of every file and output perfgate reads or writes, exported from the pydantic models.

The exported copies live beside this module (`perfgate/schemas/*.schema.json`); a test keeps
them equal to the models, and `perfgate schemas --out DIR` writes them anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from perfgate.models import HealPlan, Policy, RunMeta, RunRecord, StoredRun, Verdict
from perfgate.models.capacity import CapacityRequest, CapacityResult, UslFit
from perfgate.models.compare import CompareResult
from perfgate.models.merge import MergeResult
from perfgate.models.profile import TrafficProfile, ValidationResult

SCHEMAS: dict[str, type[BaseModel]] = {
    "run-record": RunRecord,
    "run-meta": RunMeta,
    "stored-run": StoredRun,
    "verdict": Verdict,
    "policy": Policy,
    "heal-plan": HealPlan,
    "compare-result": CompareResult,
    "capacity-result": CapacityResult,
    "capacity-request": CapacityRequest,
    "usl-fit": UslFit,
    "traffic-profile": TrafficProfile,
    "profile-validation": ValidationResult,
    "merge-result": MergeResult,
}

HERE = Path(__file__).resolve().parent


def render_schema(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in sorted(SCHEMAS.items()):
        path = out / f"{name}.schema.json"
        path.write_text(render_schema(model), encoding="utf-8")
        written.append(path)
    return written
