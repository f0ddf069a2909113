#!/usr/bin/env python3
"""`python scripts/analyze.py RESULT [--baselines DIR] [--format text|markdown|json] [--record]`.

A shim: puts the repository root on sys.path and runs `perfgate analyze`, so the action can
call it from `github.action_path` without installing perfgate first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perfgate.cli import main

if __name__ == "__main__":
    sys.exit(main(["analyze", *sys.argv[1:]]))
