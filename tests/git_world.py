"""Real git repositories for the publishing tests: a bare remote and clones in tmp_path.

No tests here (the name only keeps the file inside the publishing tests' file set); import with
`from git_world import GitWorld`. Identity, dates and HOME are fixed per call through
`env`, so nothing reads or writes the user's git configuration.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from perfgate.adapters.git_repo import GitRepo

SMOKE = "loadtests/profiles/smoke.yaml"
SMOKE_TEXT = "# smoke profile\nthresholds:\n  http_req_duration: ['p(95)<150']\nstages:\n  - {duration: 10s, target: 5}\n"


@dataclass
class GitWorld:
    root: Path
    remote: Path
    seed: Path
    env: dict[str, str]

    @classmethod
    def create(cls, root: Path) -> GitWorld:
        home = root / "home"
        home.mkdir(parents=True)
        env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
            "GIT_AUTHOR_NAME": "Dev Eloper",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev Eloper",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
            "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
            "GIT_TERMINAL_PROMPT": "0",
        }
        world = cls(root, root / "remote.git", root / "seed", env)
        world.git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(world.remote))
        world.git(root, "clone", "--quiet", str(world.remote), str(world.seed))
        world.git(world.seed, "checkout", "--quiet", "-b", "main")
        world.write(world.seed, SMOKE, SMOKE_TEXT)
        world.write(world.seed, "README.md", "# notes\n")
        world.write(world.seed, "baselines/notes-smoke/runs/001.json", "{}\n")
        world.commit_all(world.seed, "initial")
        world.git(world.seed, "push", "--quiet", "origin", "main")
        return world

    def git(self, cwd: Path, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
        return done.stdout.strip()

    def clone(self, name: str) -> Path:
        path = self.root / name
        self.git(self.root, "clone", "--quiet", str(self.remote), str(path))
        return path

    def repo(self, path: Path) -> GitRepo:
        return GitRepo(path, env=self.env)

    @staticmethod
    def write(checkout: Path, rel: str, text: str) -> Path:
        path = checkout / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit_all(self, checkout: Path, message: str) -> str:
        self.git(checkout, "add", "--all")
        self.git(checkout, "commit", "--quiet", "-m", message)
        return self.git(checkout, "rev-parse", "HEAD")

    def remote_rev(self, ref: str) -> str:
        return self.git(self.remote, "rev-parse", ref)

    def remote_show(self, spec: str) -> str:
        return self.git(self.remote, "show", spec)

    def message(self, checkout: Path, rev: str) -> str:
        return self.git(checkout, "log", "-1", "--format=%B", rev)
