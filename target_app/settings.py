"""The one place that reads the environment. Everything else receives a `Settings`.

Variables (empty means unset):
    NOTES_DB_PATH            SQLite file (default ./notes.db)
    NOTES_BIND               gunicorn bind address (default 127.0.0.1:8000)
    NOTES_WORKERS            gunicorn worker processes (default 1)
    NOTES_THREADS            threads per worker (default 8)
    NOTES_ACCESS_LOG         1 = access log on stderr (default off)
    NOTES_ADMIN              1 = enable GET/PUT /admin/faults (loopback clients only)
    NOTES_FAULT_LATENCY_MS   "search_notes=25,create_note=10": extra sleep per endpoint
    NOTES_FAULT_ERROR_RATE   "update_note=0.02": fraction answered 500 {"error":"injected fault"}
    NOTES_FAULT_CPU_MS       "list_notes=2": CPU burned per request
    NOTES_FAULT_SEED         integer seed for the error-rate draws

A bad value raises `SettingsError` whose message is one line naming the variable and the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from target_app.faults import ENDPOINTS, FaultConfig

_PLAIN_VARS: dict[str, str] = {
    "db_path": "NOTES_DB_PATH",
    "bind": "NOTES_BIND",
    "workers": "NOTES_WORKERS",
    "threads": "NOTES_THREADS",
    "access_log": "NOTES_ACCESS_LOG",
    "admin": "NOTES_ADMIN",
}
_FAULT_MAP_VARS: dict[str, str] = {
    "latency_ms": "NOTES_FAULT_LATENCY_MS",
    "error_rate": "NOTES_FAULT_ERROR_RATE",
    "cpu_ms": "NOTES_FAULT_CPU_MS",
}
_SEED_VAR = "NOTES_FAULT_SEED"


class SettingsError(ValueError):
    """A NOTES_* variable holds a bad value."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    db_path: Path = Path("notes.db")
    bind: str = Field(default="127.0.0.1:8000", min_length=1)
    workers: int = Field(default=1, ge=1, le=64)
    threads: int = Field(default=8, ge=1, le=256)
    access_log: bool = False
    admin: bool = False
    faults: FaultConfig = Field(default_factory=FaultConfig)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {
        field: env[var] for field, var in _PLAIN_VARS.items() if env.get(var, "").strip()
    }
    values["faults"] = _load_faults(env)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        var = _PLAIN_VARS[str(error["loc"][0])]
        raise SettingsError(f"{var}={env[var]!r}: {error['msg']}") from None


def parse_fault_spec(var: str, text: str) -> dict[str, float]:
    """Parse "endpoint=number,endpoint=number" (pure; ranges are checked by FaultConfig)."""
    result: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, number = (piece.strip() for piece in item.partition("="))
        if not sep:
            raise SettingsError(f"{var}={text!r}: {item!r} is not endpoint=number")
        if name not in ENDPOINTS:
            known = ", ".join(ENDPOINTS)
            raise SettingsError(f"{var}={text!r}: unknown endpoint {name!r} (known: {known})")
        if name in result:
            raise SettingsError(f"{var}={text!r}: endpoint {name!r} given twice")
        try:
            result[name] = float(number)
        except ValueError:
            raise SettingsError(f"{var}={text!r}: {number!r} is not a number") from None
    return result


def _load_faults(env: Mapping[str, str]) -> FaultConfig:
    values: dict[str, object] = {}
    for field, var in _FAULT_MAP_VARS.items():
        text = env.get(var, "").strip()
        if text:
            values[field] = parse_fault_spec(var, text)
    if env.get(_SEED_VAR, "").strip():
        values["seed"] = env[_SEED_VAR].strip()
    try:
        return FaultConfig.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        var = _FAULT_MAP_VARS.get(field, _SEED_VAR)
        where = f"{error['loc'][1]}: " if len(error["loc"]) > 1 else ""
        raise SettingsError(f"{var}={env[var]!r}: {where}{error['msg']}") from None
