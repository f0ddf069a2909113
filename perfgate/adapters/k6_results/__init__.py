"""Every k6 result format → `RunRecord`.

    load_result(path)                          sniffs the format by content and reads:
      --summary-export JSON                    summaries.from_export
      handleSummary JSON                       summaries.from_handle_summary
      machine-readable summary (schema 1.x)    summaries.from_machine_summary
      --out json NDJSON (plain / gzip)         ndjson.NdjsonReader  ─┐ streamed into
      --out csv (plain / gzip)                 csv_points.CsvReader ─┘ aggregate.Aggregator

Raw points are summarised as k6 would (percentiles by k6's own rule, `k6_percentile`),
plus sub-metrics per `name` and `stage` tag and per-stage `StageStats`; see `RawOptions`.
"""

from perfgate.adapters.k6_results.catalog import BREAKDOWN_TRENDS, DEFAULT_TREND_STATS, RawOptions
from perfgate.adapters.k6_results.loader import load_result
from perfgate.adapters.k6_results.stats import k6_percentile
from perfgate.adapters.k6_results.thresholds import is_crossed

__all__ = [
    "BREAKDOWN_TRENDS",
    "DEFAULT_TREND_STATS",
    "RawOptions",
    "is_crossed",
    "k6_percentile",
    "load_result",
]
