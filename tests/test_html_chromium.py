"""The HTML report in a real headless Chromium: renders offline, no console output, a real picture.

Needs Debian's `chromium` (/usr/bin/chromium); skipped, with the reason, where it is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from test_render_cases import ACK_UNTIL, make_history, make_run, make_trend, make_verdict

from perfgate.adapters.browser import Screenshot, screenshot_html
from perfgate.core.render import render_html

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="/usr/bin/chromium is not installed (Debian: apt-get install -y chromium)"
)
WIDTH, HEIGHT = 1200, 2000


def _shoot(tmp_path: Path, page: str, name: str = "report") -> Screenshot:
    html_path = tmp_path / f"{name}.html"
    html_path.write_text(page, encoding="utf-8")
    shot = screenshot_html(html_path, tmp_path / f"{name}.png", width=WIDTH, height=HEIGHT, chromium=CHROMIUM)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert shot.png.is_file() and shot.png.stat().st_size > 0
    return shot


def _nightly_report() -> str:
    history = make_history(30, step_at=18)
    return render_html(
        make_verdict("regression"),
        history=history,
        run=make_run(),
        change_points=make_trend(history, 18),
        ack_until=ACK_UNTIL,
    )


def test_report_renders_offline_with_no_console_output(tmp_path: Path) -> None:
    page = _nightly_report()
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    shot = _shoot(tmp_path, page)
    assert shot.console == (), shot.console
    with Image.open(shot.png) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (WIDTH, HEIGHT)
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None
        white = sum(count for count, colour in colours if colour == (255, 255, 255))
        assert 0.05 < 1 - white / (WIDTH * HEIGHT) < 0.9, "the screenshot is blank or solid"
        red, green, blue = rgb.getpixel((WIDTH // 2, 15))  # type: ignore[misc]
        assert red > 150 and green < 80 and blue < 80, "the banner is not regression red"


def test_the_console_check_catches_errors_and_blocked_loads(tmp_path: Path) -> None:
    """Negative control: the same policy, a script and an external image: both are reported."""
    page = _nightly_report().replace(
        "</body>", '<img src="https://example.invalid/x.png"><script>undefinedFunction()</script></body>'
    )
    shot = _shoot(tmp_path, page, "broken")
    assert len(shot.console_errors) == 2, shot.console
    assert any("https://example.invalid/x.png" in line for line in shot.console_errors)
