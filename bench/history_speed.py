"""How long does each command that reads the history take against a 5,000-run history? (fresh processes)

    .venv/bin/python bench/history_speed.py [--runs 5000] [--repeat 3]

The history is the one `bench/analyze_speed.py` builds (its `build_history`: real corpus runs,
jittered, recorded through `BaselineStore.record`), in the scenario of its candidate
bench/corpus/sample-run. Each row is the median wall and CPU (user+sys of the child) of `--repeat`
fresh `python -m perfgate ...` processes, start-up included, beside two anchors measured in the
same run: the bare interpreter and `python -c "import numpy"`. The first command also builds the
history index; it is timed once before the table ("cold") and left out of the medians. On a loaded
machine compare the CPU column and the ratios to the anchors, not raw walls.

Commands: `analyze --format json` (the gate), `analyze --format html` (the report's history
charts and change points), `history list`, `trend`, and `heal --dry-run` of the corpus profile
with the sample run as --result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from analyze_speed import ROOT, SAMPLE, analyze_command, build_history, timed_row

from perfgate.models import RunMeta

PROFILE = ROOT / "bench" / "corpus" / "profile.yaml"


def commands(history: Path) -> dict[str, list[str]]:
    """Each history-reading command, as a fresh-process argv."""
    perfgate = [sys.executable, "-m", "perfgate"]
    where = ["--baselines", str(history)]
    return {
        "analyze --format json": analyze_command(history),
        "analyze --format html": [*analyze_command(history)[:-1], "html"],
        "history list": [*perfgate, "history", "list", *where],
        "trend": [*perfgate, "trend", *where],
        "heal --dry-run": [
            *perfgate,
            "heal",
            "--profile",
            str(PROFILE),
            "--result",
            str(SAMPLE),
            *where,
            "--dry-run",
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = RunMeta.model_validate_json((SAMPLE / "run-meta.json").read_text()).scenario or "default"
    with tempfile.TemporaryDirectory(prefix="perfgate-history-speed-") as tmp:
        build_history(Path(tmp), args.runs, scenario)
        todo = commands(Path(tmp))
        print(f"history: {args.runs:,} runs in one scenario ({scenario})")
        print(f"{'fresh process':<28} {'wall s':>8} {'cpu s':>8}   (medians of {args.repeat})")
        print(timed_row("anchor: python -c pass", [sys.executable, "-c", "pass"], args.repeat))
        print(timed_row("anchor: import numpy", [sys.executable, "-c", "import numpy"], args.repeat))
        print(timed_row("cold: first analyze (index)", todo["analyze --format json"], 1))
        for label, command in todo.items():
            print(timed_row(label, command, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
