"""What a request can reach: the app's state (injected by create_app) and its own connection."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from flask import current_app, g

from target_app.db import Database
from target_app.faults import FaultInjector
from target_app.settings import Settings

STATE_KEY = "target_app"


@dataclass(frozen=True)
class AppState:
    settings: Settings
    database: Database
    faults: FaultInjector


def app_state() -> AppState:
    state = current_app.extensions[STATE_KEY]
    assert isinstance(state, AppState)
    return state


def connection() -> sqlite3.Connection:
    """This request's SQLite connection, opened on first use and closed at teardown."""
    conn = g.get("notes_db")
    if conn is None:
        conn = app_state().database.connect()
        g.notes_db = conn
    assert isinstance(conn, sqlite3.Connection)
    return conn


def close_connection(_exc: BaseException | None) -> None:
    conn = g.pop("notes_db", None)
    if conn is not None:
        conn.close()
