"""NDJSON read as byte ranges by several processes (`ranges`) equals one reading, exactly; and the
fast path stays equal to the json path when tags are unique per request."""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfgate.adapters.k6_results import RawOptions, load_result
from perfgate.adapters.k6_results.aggregate import Aggregator, RawRun
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.adapters.k6_results.ranges import cut, metric_lines, read_in_ranges
from perfgate.adapters.k6_results.sources import iter_byte_blocks, open_stream
from perfgate.cli import main
from perfgate.errors import InputDataError

KINDS = {
    "http_reqs": "counter",
    "http_req_duration": "trend",
    "http_req_waiting": "trend",
    "http_req_failed": "rate",
    "checks": "rate",
    "vus": "gauge",
    "notes_made": "counter",
}


def metric_line(metric: str, submetrics: list[dict[str, str]] | None = None) -> str:
    subs = [{"name": metric, "suffix": "", "tags": tags} for tags in submetrics] if submetrics else None
    data = {
        "name": metric,
        "type": KINDS[metric],
        "contains": "default",
        "thresholds": [],
        "submetrics": subs,
    }
    return json.dumps({"type": "Metric", "data": data, "metric": metric}, separators=(",", ":"))


def point_line(metric: str, second: float, value: float, tags: dict[str, str]) -> str:
    whole = int(second)
    fraction = f"{second - whole:.9f}"[1:].rstrip("0").rstrip(".")
    when = f"2026-11-22T11:{whole // 60 % 60:02d}:{whole % 60:02d}{fraction}Z"
    text = json.dumps(tags, separators=(",", ":"), sort_keys=True)
    number = int(value) if value == int(value) and KINDS[metric] != "trend" else value
    return f'{{"metric":"{metric}","type":"Point","data":{{"time":"{when}","value":{number},"tags":{text}}}}}'


def k6_lines(seed: int, requests: int, *, unique_urls: bool = False, names: int = 4) -> list[str]:
    """k6-shaped NDJSON: each metric declared before its first point, a custom metric declared
    late with a sub-metric, gauges once a second, checks; stages and endpoint names."""
    rng = random.Random(seed)
    declared: set[str] = set()
    lines: list[str] = []

    def emit(metric: str, second: float, value: float, tags: dict[str, str]) -> None:
        if metric not in declared:
            declared.add(metric)
            subs = [{"method": "POST"}] if metric in ("notes_made", "http_req_duration") else None
            lines.append(metric_line(metric, subs))
        lines.append(point_line(metric, second, value, tags))

    for request in range(requests):
        second = request * 0.013
        name = f"/notes/{request}" if unique_urls else f"endpoint_{rng.randrange(names)}"
        status = rng.choice(["200", "200", "200", "500"])
        tags = {
            "expected_response": str(status == "200").lower(),
            "method": rng.choice(["GET", "POST"]),
            "name": name,
            "scenario": "default",
            "stage": str(request * 3 // requests),
            "status": status,
            "url": name if unique_urls else f"http://127.0.0.1/{name}",
        }
        duration = round(rng.lognormvariate(0, 0.6) * 3, rng.choice([3, 6]))
        emit("http_reqs", second, 1, tags)
        emit("http_req_duration", second, duration, tags)
        emit("http_req_waiting", second, round(duration * rng.random(), 6), tags)
        emit("http_req_failed", second, int(status != "200"), tags)
        emit("checks", second, int(status == "200"), {"check": "ok", "group": "", "scenario": "default"})
        if request % 50 == 0:
            emit("vus", second, rng.randrange(1, 9), {})
        if request > requests // 2 and rng.random() < 0.1:
            emit("notes_made", second, rng.randrange(1, 3), {"method": tags["method"]})
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def one_reading(path: Path, block_bytes: int, options: RawOptions | None = None) -> RawRun:
    aggregator = Aggregator(options or RawOptions())
    with open_stream(path) as stream:
        NdjsonReader(path, aggregator).read(stream, block_bytes=block_bytes)
    return aggregator.finish()


def in_ranges(path: Path, workers: int, block_bytes: int, options: RawOptions | None = None) -> RawRun | None:
    merged = read_in_ranges(path, options or RawOptions(), workers=workers, block_bytes=block_bytes)
    return None if merged is None else merged.finish()


@pytest.mark.parametrize("workers", [2, 3, 4])
@pytest.mark.parametrize("block_bytes", [700, 4096, 30_000])
@pytest.mark.parametrize("unique_urls", [False, True])
def test_ranges_equal_one_reading_exactly(
    tmp_path: Path, workers: int, block_bytes: int, unique_urls: bool
) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(7, 1500, unique_urls=unique_urls))
    assert len(cut(path, workers, block_bytes)) == workers
    merged = in_ranges(path, workers, block_bytes)
    assert merged == one_reading(path, block_bytes)  # floats compared exactly
    assert merged.metrics["notes_made{method:POST}"].values["count"] > 0  # declared in a later range


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    requests=st.integers(1, 400),
    workers=st.integers(2, 4),
    block_bytes=st.integers(300, 20_000),
    names=st.integers(1, 12),
    max_names=st.integers(1, 12),
)
def test_ranges_equal_one_reading_or_decline(
    tmp_path: Path, seed: int, requests: int, workers: int, block_bytes: int, names: int, max_names: int
) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(seed, requests, names=names))
    options = RawOptions(max_names=max_names)
    merged = in_ranges(path, workers, block_bytes, options)
    if merged is not None:
        assert merged == one_reading(path, block_bytes, options)
    else:  # declined only when the file is too small to cut, or a later range split a name past the cap
        assert len(cut(path, workers, block_bytes)) < 2 or names > max_names


def test_a_point_before_its_metric_line_is_left_to_one_reading(tmp_path: Path) -> None:
    lines = k6_lines(3, 600)
    late = next(i for i, line in enumerate(lines) if '"notes_made"' in line and '"Point"' in line)
    lines.insert(40, lines[late])  # the custom counter's first point long before its Metric line
    path = write(tmp_path / "run.ndjson", lines)
    assert in_ranges(path, 2, 4096) is None


@pytest.mark.parametrize("metric", ["http_req_duration", "notes_made"])
def test_a_metric_line_the_scan_misses_reaches_the_later_ranges(tmp_path: Path, metric: str) -> None:
    """A Metric line the scan does not see (an escaped `i`) is still met by the range that holds
    it; a later range that was not handed it is read again with it, and the result is exact."""
    lines = k6_lines(3, 600)
    hidden = next(i for i, line in enumerate(lines) if '"type":"Metric"' in line and f'"{metric}"' in line)
    lines[hidden] = lines[hidden].replace('"Metric"', '"Metr\\u0069c"')
    path = write(tmp_path / "run.ndjson", lines)
    scanned = metric_lines(path, 4096, until=path.stat().st_size)
    assert len(scanned) == len([line for line in lines if '"Metric"' in line])
    assert in_ranges(path, 2, 4096) == one_reading(path, 4096)


@pytest.mark.parametrize("prefix_bytes", [0, 2_000, 1 << 30])
def test_declarations_past_the_prefix_are_handed_on_by_the_earlier_ranges(
    tmp_path: Path, prefix_bytes: int
) -> None:
    """Only the file's first `prefix_bytes` are scanned for Metric lines; those the earlier ranges
    met past it are handed to a later range by reading it again: the same result however small."""
    path = write(tmp_path / "run.ndjson", k6_lines(4, 1500))
    merged = read_in_ranges(path, RawOptions(), workers=3, block_bytes=4096, prefix_bytes=prefix_bytes)
    assert merged is not None
    assert merged.finish() == one_reading(path, 4096)


def test_a_bad_line_in_a_later_range_is_reported_by_one_reading(tmp_path: Path) -> None:
    lines = k6_lines(5, 600)
    lines[len(lines) - 30] = '{"metric":"http_reqs","type":"Point","data":{"time":"yesterday","value":1}}'
    path = write(tmp_path / "run.ndjson", lines)
    assert in_ranges(path, 3, 4096) is None
    with pytest.raises(InputDataError, match=f"line {len(lines) - 29}:"):
        load_result(path)


def test_gzip_is_read_ahead_and_its_damage_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(9, 3000))
    packed = tmp_path / "run.ndjson.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert load_result(packed).model_dump(exclude={"source"}) == load_result(path).model_dump(
        exclude={"source"}
    )
    damaged = tmp_path / "damaged.ndjson.gz"
    damaged.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    with pytest.raises(InputDataError, match="corrupt or truncated gzip"):
        load_result(damaged)


def read_fast(path: Path, max_routes: int) -> tuple[RawRun, NdjsonReader]:
    aggregator = Aggregator(RawOptions())
    reader = NdjsonReader(path, aggregator, max_routes=max_routes)
    with open_stream(path) as stream:
        reader.read(stream)
    return aggregator.finish(), reader


def test_requests_to_one_templated_url_share_a_route(tmp_path: Path) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(11, 2000, unique_urls=True))
    fast, reader = read_fast(path, max_routes=300)
    slow = load_result(path, fast=False)
    assert (fast.metrics, fast.stages, fast.checks) == (slow.metrics, slow.stages, slow.checks)
    assert reader.routes_kept() < 60  # not one per request
    assert fast.metrics["http_req_duration{name:/notes/{id}}"].values["count"] == 2000


def test_a_sub_metric_on_the_url_keeps_every_url_apart(tmp_path: Path) -> None:
    lines = k6_lines(11, 2000, unique_urls=True)
    at = lines.index(metric_line("http_req_duration", [{"method": "POST"}]))
    declared = json.loads(lines[at])
    declared["data"]["submetrics"] = [{"name": "x", "suffix": "", "tags": {"url": "/notes/7"}}]
    lines[at] = json.dumps(declared, separators=(",", ":"))
    path = write(tmp_path / "run.ndjson", lines)
    fast, reader = read_fast(path, max_routes=300)
    slow = load_result(path, fast=False)
    assert (fast.metrics, fast.stages, fast.checks) == (slow.metrics, slow.stages, slow.checks)
    assert fast.metrics["http_req_duration{url:/notes/7}"].values["count"] == 1
    assert reader.routes_kept() == 300  # past the cap, points are sunk without a route


def test_urls_templated_before_a_sub_metric_on_the_url_are_kept_apart_after_it(tmp_path: Path) -> None:
    """`http_reqs` points of two URLs come before the Metric line that splits `http_req_duration` by
    URL: the templating remembered for their tags texts must not outlive that declaration."""
    lines = [metric_line("http_reqs")]
    lines += [point_line("http_reqs", 1.5, 1, {"name": url, "url": url}) for url in ("/notes/1", "/notes/2")]
    declared = json.loads(metric_line("http_req_duration"))
    declared["data"]["submetrics"] = [{"name": "x", "suffix": "", "tags": {"url": "/notes/1"}}]
    lines.append(json.dumps(declared, separators=(",", ":")))
    lines += [
        point_line("http_req_duration", 2.5, v, {"name": u, "url": u})
        for u, v in (("/notes/1", 5), ("/notes/2", 7))
    ]
    path = write(tmp_path / "run.ndjson", lines)
    fast = load_result(path)
    assert fast.metrics == load_result(path, fast=False).metrics
    assert fast.metrics["http_req_duration{url:/notes/1}"].values["max"] == 5


def test_folded_names_reach_the_verdict_as_a_notice(tmp_path: Path) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(13, 600, names=260))
    out = io.StringIO()
    code = main(["analyze", str(path), "--format", "json"], stdout=out)
    assert code == 0
    notices = json.loads(out.getvalue())["notices"]
    assert any("more than 200 endpoint names" in notice for notice in notices)


_TAG_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tag_sets=st.lists(
        st.dictionaries(st.sampled_from(["name", "url", "stage", "status", "x"]), _TAG_TEXT, max_size=4),
        min_size=1,
        max_size=6,
    ),
    max_routes=st.integers(0, 4),
    url_is_name=st.booleans(),
)
def test_any_tag_text_reads_the_same_on_both_paths(
    tmp_path: Path, tag_sets: list[dict[str, str]], max_routes: int, url_is_name: bool
) -> None:
    lines = [metric_line("http_req_duration")]
    for index, tags in enumerate(tag_sets * 3):
        if url_is_name and "name" in tags:
            tags["url"] = tags["name"]
        text = json.dumps(tags, ensure_ascii=index % 2 == 0, separators=(",", ":"))
        lines.append(
            '{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-22T11:16:55.5Z",'
            f'"value":{index + 0.25},"tags":{text}}}}}'
        )
    path = write(tmp_path / "tags.ndjson", lines)
    fast, _ = read_fast(path, max_routes)
    slow = load_result(path, fast=False)
    assert fast.metrics == slow.metrics


_TIMES = [
    "2026-11-22T11:00:01.5Z", "2026-11-22T11:00:01Z", "2026-11-22T11:00:00.999999999Z",
    "2026-11-22T12:00:01.25+01:00", "2026-11-22T11:00:02.5-05:00", "2026-13-22T11:00:01Z",
    "2026-11-22T11:00:01.Z", "2026-11-22 11:00:03Z", "1700000000", "2026-11-22T11:00:01.5z",
]  # fmt: skip
_VALUES = ["1", "0", "-3", "1.25", "2.5e3", "1e999", "-0", "true", '"1"', "01", "1.", "NaN", "null"]
_TAGS = ['{"name":"a"}', '{"name":"b","stage":"1"}', "null", "{}", '{"name":1}', '{"a":{"b":"c"}}',
         '{"name":"a\\u00e9"}', '{"name":"\\ud800"}', '{"type":"Metric"}', "[]"]  # fmt: skip
_ODD = ["", "   ", "x", "{}", "null", '{"type":"Metric"}', '{"type":"Other","metric":"a"}',
        '{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-22T11:00:01Z","value":1}}',
        '{"data":{"value":1.5,"tags":null,"time":"2026-11-22T11:00:04Z"},"type":"Point","metric":"vus"}',
        '{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-22T11:00:01Z","value":1,"tags":{}}} x']  # fmt: skip


@st.composite
def _lines(draw: st.DrawFn) -> str:
    """A line of k6's layout with each field drawn from good and bad texts, or an odd line."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from([*_ODD, metric_line("http_req_duration"), metric_line("vus")]))
    metric = draw(st.sampled_from([*KINDS, "a\\u00e9"]))
    time, value, tags = (
        draw(st.sampled_from(_TIMES)),
        draw(st.sampled_from(_VALUES)),
        draw(st.sampled_from(_TAGS)),
    )
    return f'{{"metric":"{metric}","type":"Point","data":{{"time":"{time}","value":{value},"tags":{tags}}}}}'


def _outcome(path: Path, *, fast: bool) -> object:
    try:
        return load_result(path, fast=fast).model_dump()
    except InputDataError as exc:
        return str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.lists(st.integers(0, 3), max_size=3), odd=st.lists(_lines(), min_size=1, max_size=8))
def test_the_msgspec_path_equals_the_json_path_line_for_line(
    tmp_path: Path, good: list[int], odd: list[str]
) -> None:
    """The same run, or the same error on the same line, whatever the lines hold."""
    lines = k6_lines(5, 3)
    for at, line in zip(good, odd, strict=False):
        lines.insert(min(at * 7, len(lines)), line)
    lines.extend(odd[len(good) :])
    path = write(tmp_path / "odd.ndjson", lines)
    assert _outcome(path, fast=True) == _outcome(path, fast=False)


def test_a_value_of_many_integer_digits_is_the_float_it_is_on_the_fast_path(tmp_path: Path) -> None:
    """The one difference kept: `parse_json` refuses integers past 30 digits (slow to parse in
    Python); msgspec reads them in C, as the float they are."""
    line = point_line("http_reqs", 1.5, 1, {"name": "a"}).replace('"value":1', '"value":1' + "0" * 35)
    path = write(tmp_path / "big.ndjson", [metric_line("http_reqs"), line])
    assert load_result(path).metrics["http_reqs"].values["count"] == 1e35
    with pytest.raises(InputDataError, match="line 2: integer of 36 digits"):
        load_result(path, fast=False)


class _ReadOnly:
    """A stream with `read` only (no `readinto`)."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        return self._stream.read(size)


@pytest.mark.parametrize("size", [7, 64, 4096])
def test_blocks_are_the_same_read_into_one_buffer_or_read_anew(size: int) -> None:
    data = "\n".join(k6_lines(2, 40)).encode() + b"\nlast line without newline"
    into = list(iter_byte_blocks(Path("x"), io.BytesIO(data), size=size))
    anew = list(iter_byte_blocks(Path("x"), _ReadOnly(data), size=size))
    assert into == anew and all(type(block) is bytes for block in into)
    assert b"\n".join(into) == data
