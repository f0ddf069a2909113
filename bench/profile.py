"""Speed and memory of `perfgate profile` on a ≥ 1 GB access log, beside anchors on the same file.

    python bench/profile.py                  # ~1.05 GB (≈440 copies of the real Apache log)
    python bench/profile.py --size-mb 100    # quicker
    python bench/profile.py --log FILE       # measure a log you have

The big log is the real Apache log of tests/fixtures/access-logs (10,000 lines, 4 days)
replicated, each copy shifted 4 days later, so sessions never merge across copies and the
arrival curve spans months. It goes into a temporary directory removed afterwards.

Each measurement runs in a fresh child process (ru_maxrss is that child's peak):
  read lines    iterate the file's lines and do nothing (the floor: I/O and decoding)
  bare regex    the same plus the combined-format regex match per line
  profile       the whole `build_profile` (parse, sessionize, spool, cluster, label, write)
Flat memory: `profile`'s peak RSS should be about the same for --size-mb 100 and 1000.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL_LOG = ROOT / "tests" / "fixtures" / "access-logs" / "apache_logs.gz"
_DATE = re.compile(r"\[(\d\d/\w\w\w/\d{4}):")
SHIFT = timedelta(days=4)


def generate(path: Path, size_mb: float) -> int:
    """Replicate the real log, each copy 4 days later; returns the number of lines."""
    text = gzip.decompress(REAL_LOG.read_bytes()).decode("utf-8")
    dates = sorted(set(_DATE.findall(text)))
    lines_per_copy = text.count("\n")
    target, written, copy = int(size_mb * 1_000_000), 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            shifted = text
            for day in dates:
                new = (datetime.strptime(day, "%d/%b/%Y") + SHIFT * copy).strftime("%d/%b/%Y")
                shifted = shifted.replace(f"[{day}:", f"[@{new}:")
            shifted = shifted.replace("[@", "[")
            out.write(shifted)
            written += len(shifted.encode("utf-8"))
            copy += 1
    return lines_per_copy * copy


def child(kind: str, log: str, out: str) -> None:
    """In the child: run one measurement and print JSON."""
    from perfgate.adapters.access_log_lines import COMBINED
    from perfgate.models.profile import ProfileRequest
    from perfgate.pipeline.profile import build_profile

    started, cpu = time.perf_counter(), time.process_time()
    extra: dict[str, object] = {}
    if kind == "read lines":
        with Path(log).open(encoding="utf-8", errors="replace") as handle:
            lines = sum(1 for _ in handle)
    elif kind == "bare regex":
        with Path(log).open(encoding="utf-8", errors="replace") as handle:
            lines = sum(1 for line in handle if COMBINED.match(line))
    else:
        profile = build_profile(ProfileRequest(logs=[Path(log)], out=Path(out))).profile
        lines = profile.files[0].lines
        extra = {"sessions": profile.sessions, "personas": len(profile.personas), "k": profile.clustering.k}
    seconds = time.perf_counter() - started
    print(json.dumps({
        "kind": kind, "lines": lines, "seconds": seconds, "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra,
    }))  # fmt: skip


def run(kind: str, log: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(log), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=1050.0)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="perfgate-profile-bench-") as tmp:
        log = args.log
        if log is None:
            log = Path(tmp) / "access.log"
            started = time.perf_counter()
            lines = generate(log, args.size_mb)
            print(
                f"generated {log.stat().st_size / 1e6:,.0f} MB, {lines:,} lines in {time.perf_counter() - started:.0f} s"
            )
        print(f"{'measurement':<12} {'lines':>11} {'seconds':>8} {'lines/s':>10} {'peak RSS MB':>12}  notes")
        for kind in ("read lines", "bare regex", "profile"):
            result = run(kind, log, Path(tmp) / "out")
            rate = result["lines"] / result["seconds"]
            notes = ", ".join(
                f"{key} {result[key]}" for key in ("sessions", "personas", "k") if key in result
            )
            print(f"{kind:<12} {result['lines']:>11,} {result['seconds']:>8.1f} {rate:>10,.0f} "
                  f"{result['peak_rss_mb']:>12.0f}  {notes}")  # fmt: skip


if __name__ == "__main__":
    main()
