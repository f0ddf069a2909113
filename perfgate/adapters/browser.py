"""Headless Chromium: load a local HTML file with no network, screenshot it, collect console output.

Used by tests to check the HTML report renders (and by anyone wanting a PNG of it):

    shot = screenshot_html(Path("report.html"), Path("report.png"))
    assert shot.console_errors == []

Chromium runs with a throw-away profile, no sandbox (CI runs as root), every background
service off, and a host resolver that resolves nothing, so even a page that tried could not
reach the network. Console messages come from Chromium's own log (`--enable-logging=stderr`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perfgate.errors import ExternalError, ToolNotFoundError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium logs every console message at INFO, as `INFO:CONSOLE:1] "text", source: URL (1)`
# (older builds: `INFO:CONSOLE(1)]`): the level is not shown, so a page without script should log none.
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]\s*(.*)")
_BAD = ("Uncaught", "violates", "blocked", "Refused", "Failed to load", "Error", "error")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class Screenshot:
    png: Path
    returncode: int
    console: tuple[str, ...]
    stderr: str

    @property
    def console_errors(self) -> list[str]:
        """Console lines that report an error (uncaught exceptions, CSP violations, failed loads).

        A page with no script should have no console line at all: check `console` for that.
        """
        return [line for line in self.console if any(word in line for word in _BAD)]


def find_chromium(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit if explicit.is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def screenshot_html(
    page: Path,
    png: Path,
    *,
    width: int = 1200,
    height: int = 2000,
    chromium: Path | None = None,
    timeout_s: float = 90.0,
) -> Screenshot:
    """Render `page` (a local file) in headless Chromium and write a PNG screenshot to `png`."""
    binary = find_chromium(chromium)
    if binary is None:
        raise ToolNotFoundError("chromium not found (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="perfgate-chromium-") as profile:
        command = [
            str(binary),
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExternalError(f"chromium did not finish within {timeout_s:.0f} s rendering {page}") from exc
    console = tuple(match.group(1) for match in _CONSOLE.finditer(done.stderr))
    return Screenshot(png=png, returncode=done.returncode, console=console, stderr=done.stderr)
