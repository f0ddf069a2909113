"""Past `RawOptions.exact_points` a trend metric's percentiles come from HDR histograms (`sketch`):
within the stated bound of k6's exact rule, the same however the points were split (byte ranges,
parts), count/min/max exact, and the run's notes say so."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_k6_results_ranges import in_ranges, k6_lines, one_reading, write

from perfgate.adapters.k6_results import RawOptions, k6_percentile, load_result
from perfgate.adapters.k6_results.sketch import ERROR_BOUND, SCALE, Sketch, _histogram, _record

RANKS = [0.0, 1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0]


def _bound(ordered: np.ndarray, p: float) -> float:
    """The bound on k6's p(N): relative to the larger of the two order statistics it interpolates."""
    rank = p / 100 * (len(ordered) - 1)
    neighbours = ordered[int(np.floor(rank))], ordered[int(np.ceil(rank))]
    return ERROR_BOUND * max(abs(float(value)) for value in neighbours) + 1e-6  # + a millionth: the rounding


def test_bucketed_recording_counts_what_recording_each_value_counts() -> None:
    values = np.round(np.random.default_rng(3).lognormal(np.log(20), 1.5, 50_000), 6)
    values[:6] = [0.0, 1e-7, 0.0005, 2.047, 3e9, 1e13]
    bulk, each = _histogram(), _histogram()
    _record(bulk, values)
    for value in np.rint(np.minimum(values * SCALE, 2.0**62)).astype(np.int64).tolist():
        each.record_value(value)
    assert np.array_equal(np.ctypeslib.as_array(bulk.counts), np.ctypeslib.as_array(each.counts))
    assert bulk.get_total_count() == len(values)
    assert (bulk.get_min_value(), bulk.get_max_value()) == (each.get_min_value(), each.get_max_value())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.floats(1e-3, 1e9),
            st.floats(-1e9, -1e-3),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_percentiles_are_within_the_bound_of_k6s_rule(values: list[float]) -> None:
    sketch = Sketch()
    sketch.record(np.asarray(values))
    ordered = np.sort(np.asarray(values))
    for p, found in zip(RANKS, sketch.percentiles(RANKS), strict=True):
        assert abs(found - k6_percentile(ordered, p)) <= _bound(ordered, p), p


def test_halves_merged_across_processes_equal_the_whole() -> None:
    values = np.random.default_rng(9).normal(30.0, 12.0, 20_000)  # negatives too
    whole, first, second = Sketch(), Sketch(), Sketch()
    whole.record(values)
    first.record(values[:7_000])
    second.record(values[7_000:])
    first = pickle.loads(pickle.dumps(first))  # as a byte range read by another process hands it over
    first.add(pickle.loads(pickle.dumps(second)))
    assert first.percentiles(RANKS) == whole.percentiles(RANKS)


@pytest.mark.parametrize("workers", [2, 3])
def test_one_reading_and_byte_ranges_switch_alike_within_the_bound(tmp_path: Path, workers: int) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(11, 3000))
    options = RawOptions(exact_points=400)
    sketched = one_reading(path, 4096, options)
    assert in_ranges(path, workers, 4096, options) == sketched  # the switch depends on the totals only
    exact = one_reading(path, 4096)
    assert not exact.notes
    assert sketched.notes == [
        "http_req_duration: 3,000 points (more than 400 kept exactly): HDR histogram, 3 significant digits, "
        "percentile error ≤ 0.1% (med and p(N), 9 sub-metrics, the stages' p95/p99; count, avg, min and "
        "max exact)"
    ]
    for key, series in exact.metrics.items():
        for stat, value in series.values.items():
            found = sketched.metrics[key].values[stat]
            if stat in ("count", "min", "max") or not key.startswith("http_req_duration"):
                assert found == value, (key, stat)
            else:
                assert abs(found - value) <= ERROR_BOUND * abs(value) + 1e-9, (key, stat)
    for approximate, stage in zip(sketched.stages, exact.stages, strict=True):
        assert stage.p95_ms is not None and approximate.p95_ms is not None
        assert abs(approximate.p95_ms - stage.p95_ms) <= ERROR_BOUND * stage.p95_ms
        assert approximate.requests == stage.requests


def test_a_metric_under_the_cap_stays_exact_and_the_record_carries_the_note(tmp_path: Path) -> None:
    path = write(tmp_path / "run.ndjson", k6_lines(5, 600))
    record = load_result(path, options=RawOptions(exact_points=600, processes=1))
    assert not record.notes  # 600 points, not more than 600
    record = load_result(path, options=RawOptions(exact_points=599, processes=1))
    assert record.notes and record.notes[0].startswith("http_req_duration: 600 points (more than 599")


def test_bit_lengths_are_exact_next_to_powers_of_two() -> None:
    from perfgate.adapters.k6_results.sketch import _bit_length

    values = [2**k + d for k in range(1, 62) for d in (-1, 0, 1)]
    found = _bit_length(np.asarray(values, dtype=np.int64)).tolist()
    assert found == [value.bit_length() for value in values]
