"""Where a perfgate checkout keeps its bundled files (computed once; `action.yml` runs from one)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTES_SCRIPT = REPO_ROOT / "loadtests" / "notes.js"
NOTES_CONF = REPO_ROOT / "target_app" / "gunicorn.conf.py"
BUNDLED_PROFILE = REPO_ROOT / "loadtests" / "profiles" / "smoke.yaml"
CAPACITY_PROFILE = REPO_ROOT / "loadtests" / "profiles" / "capacity.yaml"
BUNDLED_BASELINES = REPO_ROOT / "baselines"
