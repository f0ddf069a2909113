"""SQLite storage for notes: schema, connections and the queries the views need.

Connections run in autocommit mode (isolation_level=None). Every write is one statement
(`INSERT/UPDATE/DELETE ... RETURNING`), hence atomic without an explicit transaction and
never upgrading a read lock to a write lock (the case where busy_timeout does not help).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a deleted id stays 404
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]',         -- JSON array of strings
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Listing pages by id (the rowid b-tree) needs no index. count(*) walks the smallest
-- b-tree it can find: without this index that is the table, whose pages hold the bodies.
-- Search is LIKE '%q%' on title and body: no b-tree index can serve a leading wildcard,
-- so search scans by design (it is the expensive endpoint of the load test).
CREATE INDEX IF NOT EXISTS notes_created_at ON notes (created_at);
"""
# Whole statements as literals (no string building): what runs is what you read here.
_INSERT = """
INSERT INTO notes (title, body, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
RETURNING id, title, body, tags, created_at, updated_at
"""
_GET = "SELECT id, title, body, tags, created_at, updated_at FROM notes WHERE id = ?"
_UPDATE = """
UPDATE notes SET title = coalesce(:title, title), body = coalesce(:body, body),
                 tags = coalesce(:tags, tags), updated_at = :now
WHERE id = :id RETURNING id, title, body, tags, created_at, updated_at
"""
_DELETE = "DELETE FROM notes WHERE id = ? RETURNING id"
_COUNT_ALL = "SELECT count(*) FROM notes"
_PAGE_ALL = """
SELECT id, title, body, tags, created_at, updated_at FROM notes
ORDER BY id DESC LIMIT :limit OFFSET :offset
"""
_COUNT_MATCHING = """
SELECT count(*) FROM notes
WHERE title LIKE :pattern ESCAPE '\\' OR body LIKE :pattern ESCAPE '\\'
"""
_PAGE_MATCHING = """
SELECT id, title, body, tags, created_at, updated_at FROM notes
WHERE title LIKE :pattern ESCAPE '\\' OR body LIKE :pattern ESCAPE '\\'
ORDER BY id DESC LIMIT :limit OFFSET :offset
"""


class NoteRecord(TypedDict):
    id: int
    title: str
    body: str
    tags: list[str]
    created_at: str
    updated_at: str


class Database:
    """Where the notes live. Hands out new connections; the caller closes them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: no corruption, fewer fsyncs
        return conn

    def init_schema(self) -> None:
        """Create the file, switch it to WAL (persistent) and create tables; idempotent."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self.connect()) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)


def now_utc() -> str:
    """Timestamp text that sorts in time order: 2025-01-31T12:00:00.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(row: sqlite3.Row) -> NoteRecord:
    return NoteRecord(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        tags=json.loads(row["tags"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()


def insert_note(conn: sqlite3.Connection, title: str, body: str, tags: list[str]) -> NoteRecord:
    now = now_utc()
    # fetchall, not fetchone: a RETURNING statement commits only once it has run to the end.
    rows = conn.execute(_INSERT, (title, body, json.dumps(tags), now, now)).fetchall()
    return _record(rows[0])


def get_note(conn: sqlite3.Connection, note_id: int) -> NoteRecord | None:
    row = conn.execute(_GET, (note_id,)).fetchone()
    return None if row is None else _record(row)


def update_note(
    conn: sqlite3.Connection,
    note_id: int,
    *,
    title: str | None,
    body: str | None,
    tags: list[str] | None,
) -> NoteRecord | None:
    """Set the fields that are not None (PUT passes all three); None if no such note."""
    rows = conn.execute(
        _UPDATE,
        {
            "title": title,
            "body": body,
            "tags": None if tags is None else json.dumps(tags),
            "now": now_utc(),
            "id": note_id,
        },
    ).fetchall()
    return _record(rows[0]) if rows else None


def delete_note(conn: sqlite3.Connection, note_id: int) -> bool:
    rows = conn.execute(_DELETE, (note_id,)).fetchall()
    return bool(rows)


def list_notes(
    conn: sqlite3.Connection, *, page: int, per_page: int, query: str | None
) -> tuple[list[NoteRecord], int]:
    """One page, newest first, and the total; `query` filters by substring (LIKE)."""
    count_sql, page_sql = (_COUNT_MATCHING, _PAGE_MATCHING) if query else (_COUNT_ALL, _PAGE_ALL)
    params: dict[str, object] = {
        "pattern": f"%{_escape_like(query)}%" if query else None,
        "limit": per_page,
        "offset": (page - 1) * per_page,
    }
    with _read_snapshot(conn):
        total = conn.execute(count_sql, params).fetchone()[0]
        rows = conn.execute(page_sql, params).fetchall()
    return [_record(row) for row in rows], int(total)


def _escape_like(text: str | None) -> str:
    text = text or ""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@contextmanager
def _read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction, so the page and the total come from the same snapshot."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")
