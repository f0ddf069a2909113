"""Regression detection: robust statistics, environment-vs-code structure, models, change points.

Pure: arrays and `RunRecord`s in, result models out. No files, environment, clock or network.
"""

from perfgate.core.detect.detector import detect_regressions, history_tail
from perfgate.core.detect.evidence import DetectorTuning
from perfgate.core.detect.extract import HistoryColumns
from perfgate.core.detect.trend import scan_trend
from perfgate.models.detect import ChangePoint, Detection, MetricTrend, TrendReport

__all__ = [
    "ChangePoint",
    "Detection",
    "DetectorTuning",
    "HistoryColumns",
    "MetricTrend",
    "TrendReport",
    "detect_regressions",
    "history_tail",
    "scan_trend",
]
