"""The notes routes and /healthz. View function names are the endpoint names (see faults)."""

from __future__ import annotations

import sqlite3

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from target_app import db
from target_app.context import connection
from target_app.errors import json_error
from target_app.inputs import parse_body, parse_query
from target_app.schemas import ListQuery, NoteIn, NotePatch

api = Blueprint("api", __name__)

# Larger ids cannot be SQLite integers; the route does not match them (404).
_NOTE = "/notes/<int(max=9223372036854775807):note_id>"


def _found(note: db.NoteRecord | None, note_id: int) -> db.NoteRecord:
    if note is None:
        raise NotFound(f"note {note_id} does not exist")
    return note


@api.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        db.ping(connection())
    except sqlite3.Error as exc:
        return json_error(503, "database unavailable", detail=str(exc))
    return jsonify(status="ok")


@api.post("/notes")
def create_note() -> ResponseReturnValue:
    note_in = parse_body(NoteIn)
    note = db.insert_note(connection(), note_in.title, note_in.body, note_in.tags)
    response: Response = jsonify(note)
    response.status_code = 201
    response.headers["Location"] = f"/notes/{note['id']}"
    return response


@api.get(_NOTE)
def get_note(note_id: int) -> ResponseReturnValue:
    return jsonify(_found(db.get_note(connection(), note_id), note_id))


@api.get("/notes")
def list_notes() -> ResponseReturnValue:
    """Also search_notes: a non-empty q= filters by substring of title or body."""
    query = parse_query(ListQuery)
    items, total = db.list_notes(
        connection(), page=query.page, per_page=query.per_page, query=query.q or None
    )
    return jsonify(items=items, page=query.page, per_page=query.per_page, total=total)


@api.route(_NOTE, methods=["PUT", "PATCH"])
def update_note(note_id: int) -> ResponseReturnValue:
    """PUT replaces the note (all fields required); PATCH changes the fields it names."""
    changes = parse_body(NoteIn) if request.method == "PUT" else parse_body(NotePatch)
    title, body, tags = changes.title, changes.body, changes.tags
    note = db.update_note(connection(), note_id, title=title, body=body, tags=tags)
    return jsonify(_found(note, note_id))


@api.delete(_NOTE)
def delete_note(note_id: int) -> ResponseReturnValue:
    if not db.delete_note(connection(), note_id):
        raise NotFound(f"note {note_id} does not exist")
    return "", 204
