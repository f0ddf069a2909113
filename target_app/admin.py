"""GET/PUT /admin/faults: read or replace the fault config while the server runs.

Registered only when NOTES_ADMIN=1, and answers 403 unless the client is on loopback.
The config lives in each worker process: with NOTES_WORKERS > 1 a PUT reaches only the
worker that handled it (the response names it in `worker_pid`), so use one worker for demos.
"""

from __future__ import annotations

import ipaddress
import os

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import Forbidden

from target_app.context import app_state
from target_app.faults import FaultConfig
from target_app.inputs import parse_body

admin = Blueprint("admin", __name__, url_prefix="/admin")


def is_loopback(remote_addr: str | None) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:  # None, empty, or a unix-socket peer
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@admin.before_request
def _loopback_only() -> None:
    if not is_loopback(request.remote_addr):
        raise Forbidden("the admin API answers loopback clients only")


def _current() -> ResponseReturnValue:
    return jsonify(faults=app_state().faults.config.model_dump(), worker_pid=os.getpid())


@admin.get("/faults")
def get_faults() -> ResponseReturnValue:
    return _current()


@admin.put("/faults")
def put_faults() -> ResponseReturnValue:
    """Replace the whole config (body: a FaultConfig; {} turns every fault off)."""
    app_state().faults.replace(parse_body(FaultConfig))
    return _current()
