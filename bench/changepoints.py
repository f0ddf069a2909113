"""Change-point benchmark: perfgate's scan on TCPD and the Mozilla Perfherder series.

    /tmp/venv/bin/python bench/changepoints.py [--penalty-scale 2.0] [--quiet]

Matching rule (documented, fixed before looking at results):
- ground truth of a series = the union of every annotator's change points (index 0, which TCPD's
  own scorer always adds, is dropped), grouped into *true changes*: sorted points within ±5 of
  the first point of a group belong to that group;
- a detection is a *hit* when it lies within ±5 points of any annotated point of any annotator,
  and a true change is *found* when at least one detection lies within ±5 of any of its points;
- precision = hits / detections; recall = true changes found / true changes;
  false alarms = detections that are not hits.
Totals sum hits, detections, found and true changes over all series (micro averages).

Baselines on the same series: *never-fire* (no detection: recall 0, no false alarm) and *naive*:
a break whenever a point and the next two lie beyond the rolling mean ± 3σ of the previous 10
points (after a break the window restarts). Series with missing values are forward-filled;
for the two-column run_log series the first column is used. Mozilla values are judged in log
space like perfgate's latencies; TCPD series raw (some are not positive).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfgate.core.detect.changepoints import PENALTY_RULE, PENALTY_SCALE, detect_change_points

DATA = Path("/work/shared/datasets")
MARGIN = 5


@dataclass
class Score:
    detections: int = 0
    hits: int = 0
    changes: int = 0
    found: int = 0

    def add(self, other: Score) -> None:
        self.detections += other.detections
        self.hits += other.hits
        self.changes += other.changes
        self.found += other.found

    def text(self) -> str:
        precision = f"{self.hits / self.detections:.2f}" if self.detections else "  - "
        recall = f"{self.found / self.changes:.2f}" if self.changes else "  - "
        return f"P={precision} R={recall} FA={self.detections - self.hits:3d} (det {self.detections:3d})"


def group_changes(points: list[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    for point in sorted(set(points)):
        if groups and point - groups[-1][0] <= MARGIN:
            groups[-1].append(point)
        else:
            groups.append([point])
    return groups


def score(detections: list[int], annotations: list[int]) -> Score:
    points = sorted({p for p in annotations if p > 0})
    groups = group_changes(points)
    hits = sum(1 for d in detections if any(abs(d - p) <= MARGIN for p in points))
    found = sum(1 for g in groups if any(abs(d - p) <= MARGIN for d in detections for p in g))
    return Score(detections=len(detections), hits=hits, changes=len(groups), found=found)


def naive_breaks(values: np.ndarray, window: int = 10, k: float = 3.0, persist: int = 3) -> list[int]:
    breaks: list[int] = []
    start = 0
    t = window
    while t + persist <= values.size:
        past = values[max(start, t - window) : t]
        if past.size >= window:
            mean, std = float(past.mean()), float(past.std()) or 1e-12
            if all(abs(values[t + j] - mean) > k * std for j in range(persist)):
                breaks.append(t)
                start = t
                t += window
                continue
        t += 1
    return breaks


def load_tcpd() -> list[tuple[str, np.ndarray, list[int]]]:
    annotations = json.loads((DATA / "tcpd" / "annotations.json").read_text())
    out = []
    for path in sorted((DATA / "tcpd" / "series").glob("*.json")):
        doc = json.loads(path.read_text())
        raw = [np.nan if v is None else float(v) for v in doc["series"][0]["raw"]]
        values = _ffill(np.array(raw))
        points = [p for marks in annotations.get(doc["name"], {}).values() for p in marks]
        out.append((doc["name"], values, points))
    return out


def load_mozilla() -> tuple[str, np.ndarray, list[int]]:
    folder = DATA / "mozilla-perf-sample"
    values = np.array([float(line) for line in (folder / "4967471.values.txt").read_text().split()])
    doc = json.loads((folder / "4967471.annotations.json").read_text())
    points = [p for marks in doc["annotations_new"]["4967471"].values() for p in marks]
    return "mozilla_4967471 (log)", np.log(values), points


def _ffill(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for i in range(out.size):
        if not np.isfinite(out[i]):
            out[i] = out[i - 1] if i else np.nanmedian(values)
    return out


def run(penalty_scale: float, quiet: bool) -> None:
    methods: dict[str, Callable[[np.ndarray], list[int]]] = {
        "perfgate": lambda v: detect_change_points(v, penalty_scale=penalty_scale),
        "never": lambda v: [],
        "naive": naive_breaks,
    }
    totals = {name: Score() for name in methods}
    series = [*load_tcpd(), load_mozilla()]
    print(f"rule: {PENALTY_RULE} (penalty_scale={penalty_scale}); match margin ±{MARGIN}")
    print(f"{'series':28s} {'n':>5s} {'true':>4s}  " + "  ".join(f"{m:^36s}" for m in methods))
    for name, values, points in series:
        scores = {m: score(fn(values), points) for m, fn in methods.items()}
        for m, s in scores.items():
            totals[m].add(s)
        if not quiet:
            changes = scores["never"].changes
            print(
                f"{name:28s} {values.size:5d} {changes:4d}  " + "  ".join(s.text() for s in scores.values())
            )
    print(
        f"{'TOTAL (micro)':28s} {'':5s} {totals['never'].changes:4d}  "
        + "  ".join(s.text() for s in totals.values())
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--penalty-scale", type=float, default=PENALTY_SCALE)
    parser.add_argument("--quiet", action="store_true", help="totals only")
    args = parser.parse_args()
    run(args.penalty_scale, args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
