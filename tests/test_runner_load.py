"""The runner monitor and its calibration probe, on this machine (real psutil, a real CPU hog)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from perfgate.adapters.runner_load import RunnerMonitor, calibration_probe


def test_the_probe_takes_longer_when_the_cores_are_taken() -> None:
    """Not a timing assertion on this machine's speed: the same probe with every core busy
    (one hog per core, plus one) against itself a moment before, medians of 3."""
    quiet = sorted(calibration_probe() for _ in range(3))[1]
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range((os.cpu_count() or 1) + 1)
    ]
    try:
        time.sleep(0.3)
        busy = sorted(calibration_probe() for _ in range(3))[1]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert busy > quiet


def test_the_monitor_samples_the_machine_and_the_watched_process() -> None:
    monitor = RunnerMonitor(interval_s=0.1)
    monitor.start()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 0.8\nwhile time.time() < end: pass"]
    )
    monitor.watch(child.pid)
    child.wait()
    evidence = monitor.stop()
    assert evidence.samples >= 3
    assert evidence.k6_cpu_percent_mean is not None and evidence.k6_cpu_percent_mean > 0
    assert evidence.busy_percent_mean is not None and evidence.busy_percent_mean > 0
    assert evidence.probe_before_ms and evidence.probe_after_ms
    assert evidence.load1_max is not None


def test_a_monitor_starts_once_and_rejects_a_bad_interval() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        RunnerMonitor(interval_s=0)
    monitor = RunnerMonitor(interval_s=0.1)
    monitor.start()
    with pytest.raises(RuntimeError, match="already started"):
        monitor.start()
    monitor.stop()


def test_watching_a_process_that_is_gone_is_ignored() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    monitor = RunnerMonitor(interval_s=0.1)
    monitor.start()
    monitor.watch(child.pid)
    assert monitor.stop().k6_cpu_percent_mean is None
