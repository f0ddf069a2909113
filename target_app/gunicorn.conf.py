"""gunicorn settings for the notes API; every value comes from target_app.settings (NOTES_*).

    gunicorn -c target_app/gunicorn.conf.py target_app.wsgi:app

Nagle's algorithm (TCP_NODELAY), checked with gunicorn 27.0.1 on Linux:
gunicorn writes a response's headers and body with two separate send() calls. With Nagle on,
the body waits for the ACK of the headers, which the client delays (~40 ms), so every
keep-alive response stalls. gunicorn's TCPSocket.set_options already sets TCP_NODELAY on the
listening socket and Linux copies it to each accepted socket, so the gthread worker is fine
as shipped. Measured over 200 sequential keep-alive GETs from http.client on 127.0.0.1:
this file p50 1.1 ms / p99 1.7 ms; without post_worker_init the same; with TCP_NODELAY
cleared on the listener p50 44 ms / p99 50 ms. `post_worker_init` below re-asserts the option
on each TCP listener so the guarantee does not rest on a gunicorn internal, and
tests/test_target_app.py checks the latency over a real socket.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

# The config file is loaded before the app, possibly from another directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from target_app.settings import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:
    # SystemExit passes through gunicorn's config loader: one line on stderr, exit status 1.
    raise SystemExit(f"target_app: refusing to start: {exc}") from None

wsgi_app = "target_app.wsgi:app"
bind = [_settings.bind]
worker_class = "gthread"
workers = _settings.workers
threads = _settings.threads
keepalive = 30  # k6 VUs reuse connections; gunicorn's 2 s default would close idle ones
accesslog = "-" if _settings.access_log else None
errorlog = "-"
# gunicorn >= 24 opens a control socket under ~/.gunicorn by default; parallel servers (tests,
# k6 runs) would fight over it. Older versions ignore the unknown name.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Disable Nagle on every TCP listener; accepted sockets inherit the option."""
    for listener in worker.sockets:
        if listener.family in (socket.AF_INET, socket.AF_INET6):
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
