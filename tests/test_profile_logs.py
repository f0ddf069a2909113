"""perfgate profile, the input side: formats (combined, common, JSON lines, CSV), gzip, several
files, malformed lines counted, mostly-unreadable files refused with exit 3; and the CLI."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from profile_synth import combined_lines, csv_lines, jsonl_lines, synth_requests

from perfgate.adapters.access_logs import AccessLogReader, detect_format
from perfgate.cli import main
from perfgate.errors import InputDataError, UsageError

LINE = '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /notes/1?x=2 HTTP/1.1" 200 12 "-" "Mozilla/5.0 \\"x\\""'


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rows():
    return synth_requests(sessions_per_kind=8, seed=3, bots=2)[0]


@pytest.mark.parametrize(
    ("render", "fmt"), [(combined_lines, "combined"), (jsonl_lines, "jsonl"), (csv_lines, "csv")]
)
def test_each_format_reads_every_request(tmp_path: Path, rows, render, fmt: str) -> None:
    path = _write(tmp_path / "log", render(rows))
    assert detect_format(path) == fmt
    reader = AccessLogReader([path])
    entries = list(reader)
    assert len(entries) == len(rows)
    assert [e.path for e in entries] == [r[4] for r in rows]
    assert [e.method for e in entries] == [r[3] for r in rows]
    assert [e.status for e in entries] == [r[5] for r in rows]
    assert entries[0].ts == pytest.approx(rows[0][0], abs=1.0)
    (report,) = reader.reports
    assert (report.format, report.malformed) == (fmt, 0)
    if fmt == "csv":
        assert entries[0].session == rows[0][1] and entries[0].response_ms == 12.5


def test_common_format_and_escaped_quotes(tmp_path: Path) -> None:
    common = _write(
        tmp_path / "common.log", ['5.6.7.8 - frank [10/Oct/2000:13:55:36 -0700] "POST /a HTTP/1.0" 201 -']
    )
    assert detect_format(common) == "common"
    (entry,) = AccessLogReader([common])
    assert (entry.client, entry.method, entry.status, entry.agent) == ("5.6.7.8", "POST", 201, "")
    assert entry.ts == 971211336.0  # 20:55:36 UTC
    (combined,) = AccessLogReader([_write(tmp_path / "c.log", [LINE])])
    assert combined.agent == 'Mozilla/5.0 \\"x\\"' and combined.path == "/notes/1?x=2"


def test_gzip_and_several_files_in_order(tmp_path: Path, rows) -> None:
    lines = combined_lines(rows)
    half = len(lines) // 2
    first = tmp_path / "a.log.gz"
    first.write_bytes(gzip.compress(("\n".join(lines[:half]) + "\n").encode()))
    second = _write(tmp_path / "b.log", lines[half:])
    seen: list[int] = []
    reader = AccessLogReader([first, second], progress=lambda done, total: seen.append(done))
    assert len(list(reader)) == len(lines)
    assert [r.parsed for r in reader.reports] == [half, len(lines) - half]
    newest_first = AccessLogReader([second, first])  # rotated logs are often listed so
    times = [entry.ts for entry in newest_first]
    assert [Path(r.path).name for r in newest_first.reports] == ["a.log.gz", "b.log"]
    assert times[half - 1] <= times[half]


def test_json_field_mapping_by_flag(tmp_path: Path) -> None:
    record = {"when": "2026-03-02T10:00:00Z", "req": {"url": "/x/9", "verb": "put"}, "code": 204, "who": "ip"}
    path = _write(tmp_path / "log.jsonl", [json.dumps(record)])
    fields = {"timestamp": "when", "path": "req.url", "method": "req.verb", "status": "code", "client": "who"}
    (entry,) = AccessLogReader([path], "jsonl", fields)
    assert (entry.path, entry.method, entry.status, entry.client, entry.ts) == (
        "/x/9",
        "PUT",
        204,
        "ip",
        1772445600.0,
    )
    with pytest.raises(UsageError, match="unknown field 'colour'"):
        AccessLogReader([path], "jsonl", {"colour": "x"})


def test_malformed_lines_are_counted_with_their_numbers(tmp_path: Path, rows) -> None:
    lines = combined_lines(rows)
    for index in (2, 5, 9, 14, 20, 30, 40):
        lines[index] = "garbage " + lines[index][:20]
    reader = AccessLogReader([_write(tmp_path / "log", lines)])
    assert len(list(reader)) == len(lines) - 7
    (report,) = reader.reports
    assert report.malformed == 7 and report.first_malformed_lines == [3, 6, 10, 15, 21]


def test_a_mostly_unreadable_file_is_refused(tmp_path: Path, rows) -> None:
    lines = combined_lines(rows)[:10] + ["not a log line"] * 30
    path = _write(tmp_path / "bad.log", lines)
    with pytest.raises(
        InputDataError, match=r"bad\.log: 30 of 40 lines read are not combined log lines.*expected"
    ):
        list(AccessLogReader([path]))
    unknown = _write(tmp_path / "what.txt", ["hello", "world"])
    with pytest.raises(InputDataError, match="not an access log"):
        detect_format(unknown)


def test_cli_exit_3_names_the_file_and_writes_nothing(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.log", ["nothing here"] * 5)
    out = tmp_path / "out"
    assert main(["profile", str(bad), "--out", str(out)]) == 3
    assert not list(out.glob("*")) if out.exists() else True
    assert main(["profile", str(tmp_path / "missing.log"), "--out", str(out)]) == 3
    assert main(["profile", str(bad), "--out", str(out), "--session-gap", "soon"]) == 2
    assert main(["profile", str(bad), "--out", str(out), "--field", "nokey"]) == 2


def test_cli_writes_every_file_and_prints_json(tmp_path: Path, rows) -> None:
    log = _write(tmp_path / "access.log", combined_lines(rows))
    out = tmp_path / "out"
    stdout = io.StringIO()
    code = main(["profile", str(log), "--out", str(out), "--format", "json", "--session-gap", "20m",
                 "--personas", "3", "--method", "kmeans"], stdout=stdout)  # fmt: skip
    assert code == 0
    payload = json.loads(stdout.getvalue())
    assert payload["session_gap_s"] == 1200 and payload["clustering"]["k"] == 3
    names = {"profile.json", "loadtest.js", "profile.yaml", "assignments.csv", "profile.html"}
    assert {Path(p).name for p in payload["written"]} == names
    assert {p.name for p in out.iterdir()} == names
    html = (out / "profile.html").read_text(encoding="utf-8")
    assert "<svg" in html and "Journeys" in html and "http://" not in html.replace("http://www.w3.org", "")
    text = io.StringIO()
    assert main(["profile", str(log), "--out", str(out)], stdout=text) == 0
    assert "persona" in text.getvalue() and "bot" in text.getvalue()
