"""`perfgate init --script FILE.js --action OWNER/REPO@SHA`: a gated CI job for your own script."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from perfgate.cli.options import Handler
from perfgate.settings import Settings


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    init = sub.add_parser(
        "init",
        help="write a ready CI workflow and policy file for your own k6 script",
        description="Write .github/workflows/perfgate.yml (the perfgate action pinned by SHA, "
        "permissions: {} with contents: read for the job) and perfgate.yml (the policy, every setting "
        "documented) for --script FILE.js.",
    )
    init.add_argument("--script", type=Path, required=True, metavar="FILE.js", help="your k6 script")
    init.add_argument(
        "--action", required=True, metavar="OWNER/REPO@SHA", help="the perfgate action, pinned by commit SHA"
    )
    init.add_argument("--base-url", default="http://127.0.0.1:8080", metavar="URL", help="your service's URL")
    init.add_argument("--target-cmd", metavar="COMMAND", help="command that starts your service in CI")
    init.add_argument("--health-url", metavar="URL", help="with --target-cmd: URL answering 200 when up")
    init.add_argument("--baselines", default="baselines", metavar="DIR", help="history directory (baselines)")
    init.add_argument("--dir", type=Path, default=Path(), metavar="DIR", help="repository root (.)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    return {"init": cmd_init}


def cmd_init(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline.init import InitRequest, write_init

    request = InitRequest(
        script=args.script,
        action=args.action,
        root=args.dir,
        base_url=args.base_url,
        target_cmd=args.target_cmd,
        health_url=args.health_url,
        baselines=args.baselines,
        force=args.force,
    )
    for path in write_init(request):
        stdout.write(f"wrote {path}\n")
    return 0
