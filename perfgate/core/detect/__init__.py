"""Regression detection: robust statistics, environment-vs-code structure, models, change points.

Pure: arrays and `RunRecord`s in, result models out. No files, environment, clock or network.
"""

from perfgate.core.detect.detector import detect_regressions
from perfgate.core.detect.evidence import Settings
from perfgate.core.detect.results import ChangePoint, Detection, MetricTrend, TrendReport
from perfgate.core.detect.trend import scan_trend

__all__ = [
    "ChangePoint",
    "Detection",
    "MetricTrend",
    "Settings",
    "TrendReport",
    "detect_regressions",
    "scan_trend",
]
