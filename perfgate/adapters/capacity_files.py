"""Inputs of the capacity study: a ramp run's raw points (+ the target's resources) and
(load, throughput) CSV files.

A ramp run is a perfgate run directory (its raw file, `raw.ndjson.gz` / `raw.ndjson` /
`raw.csv`, and `run-meta.json` for the target's CPU and memory samples) or a single raw k6 file
(`--out json` NDJSON or `--out csv`, plain or gzip), streamed by the k6_results readers.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from perfgate.adapters.k6_results.series import read_point_series
from perfgate.adapters.run_dir import META_NAME, RAW_NAMES, load_meta
from perfgate.errors import InputDataError
from perfgate.models import ResourceUsage
from perfgate.models.capacity import FloatArray, RampPoints

RAMP_METRICS = ("http_req_duration", "http_req_failed", "vus")


def _raw_file(path: Path) -> tuple[Path, ResourceUsage | None, float | None]:
    """(raw file, resources, epoch the resource samples count from) of a run dir or raw file."""
    if not path.exists():
        raise InputDataError(path, "no such file or directory")
    if not path.is_dir():
        return path, None, None
    raw = next((path / name for name in RAW_NAMES if (path / name).is_file()), None)
    if raw is None:
        raise InputDataError(
            path, f"run directory has no raw points ({', '.join(RAW_NAMES)}); run with --raw"
        )
    meta_path = path / META_NAME
    if not meta_path.is_file():
        return raw, None, None
    meta = load_meta(meta_path)
    return raw, meta.resources, meta.started_at.timestamp()


def load_ramp_points(path: Path) -> RampPoints:
    """The series a capacity study needs from a ramp run (see the module docstring)."""
    raw, resources, sampled_from = _raw_file(path)
    collected = read_point_series(raw, RAMP_METRICS)
    series = {name: collected.series[name].as_arrays() for name in RAMP_METRICS}
    if series["http_req_duration"][0].size == 0:
        raise InputDataError(raw, "no http_req_duration points: not a run of HTTP requests")
    if series["vus"][0].size == 0:
        raise InputDataError(raw, "no vus points: the number of users over time is unknown")
    t0 = float(collected.first)
    cpu = rss = None
    if resources is not None and sampled_from is not None and len(resources.samples) >= 2:
        times = np.array([s.t_s for s in resources.samples]) + (sampled_from - t0)
        cpu = (times, np.array([s.cpu_percent for s in resources.samples]))
        rss = (times, np.array([s.rss_mb for s in resources.samples]))
    return RampPoints(
        t0=t0,
        duration=_relative(series["http_req_duration"], t0),
        failed=_relative(series["http_req_failed"], t0),
        vus=_relative(series["vus"], t0),
        cpu=cpu,
        rss=rss,
    )


def _relative(pair: tuple[FloatArray, FloatArray], t0: float) -> tuple[FloatArray, FloatArray]:
    return pair[0] - t0, pair[1].copy()


def load_usl_csv(path: Path) -> tuple[FloatArray, FloatArray]:
    """(load, throughput) from a CSV whose first two columns are numbers; a header row is optional."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(path, f"cannot read: {exc}") from exc
    if rows and not _numeric(rows[0][:2]):
        rows = rows[1:]
    load, throughput = [], []
    for lineno, row in enumerate(rows, start=2):
        if len(row) < 2 or not _numeric(row[:2]):
            raise InputDataError(
                path, f"row {lineno}: expected two numbers (load, throughput), got {row[:2]!r}"
            )
        load.append(float(row[0]))
        throughput.append(float(row[1]))
    if not load:
        raise InputDataError(path, "no (load, throughput) rows")
    return np.array(load), np.array(throughput)


def _numeric(cells: list[str]) -> bool:
    try:
        return len(cells) == 2 and all(math.isfinite(float(cell)) for cell in cells)
    except ValueError:
        return False
