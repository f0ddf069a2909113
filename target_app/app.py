"""create_app(): wire settings, database, fault injector, routes and error handlers."""

from __future__ import annotations

from flask import Flask, request
from flask.typing import ResponseReturnValue

from target_app.admin import admin
from target_app.context import STATE_KEY, AppState, app_state, close_connection
from target_app.db import Database
from target_app.errors import json_error, register_error_handlers
from target_app.faults import ENDPOINTS, Endpoint, FaultInjector
from target_app.settings import Settings, load_settings
from target_app.views import api

MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """The notes API; `settings` defaults to the environment (may raise SettingsError)."""
    settings = load_settings() if settings is None else settings
    database = Database(settings.db_path)
    database.init_schema()

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[STATE_KEY] = AppState(settings, database, FaultInjector(settings.faults))
    app.register_blueprint(api)
    if settings.admin:
        app.register_blueprint(admin)
    register_error_handlers(app)
    app.before_request(_inject_faults)
    app.teardown_appcontext(close_connection)
    return app


def fault_endpoint(view: str | None, q: str | None) -> Endpoint | None:
    """The endpoint name of a request routed to `view` ("api.list_notes"), if it has one."""
    if view is None or not view.startswith("api."):
        return None
    name = view.removeprefix("api.")
    if name == "list_notes" and q:
        return "search_notes"
    for endpoint in ENDPOINTS:
        if endpoint == name:
            return endpoint
    return None


def _inject_faults() -> ResponseReturnValue | None:
    endpoint = fault_endpoint(request.endpoint, request.args.get("q"))
    if endpoint is not None and app_state().faults.apply(endpoint):
        return json_error(500, "injected fault")
    return None
