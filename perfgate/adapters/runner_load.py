"""How busy the runner was while k6 ran: evidence for "environment or code?", never a correction.

`RunnerMonitor.start()` times the calibration probe (unless `probe=False`) and starts sampling the whole machine every
`interval_s` (busy and steal percent through psutil, the 1-minute load average, k6's own CPU once
`watch(pid)` names its process); `stop()` times the probe again and returns `RunnerEvidence`.

The probe is a fixed amount of CPU work (SHA-256 over a fixed buffer, the median of 5 timings,
~15 ms each on an idle core, longer than a scheduler time slice). On a runner whose cores are taken by others it takes longer: that is all
it says. Projects that divided their results by such a probe found it unreliable (its work is not
the target's), so perfgate keeps it as evidence beside the sampled load and never rescales by it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from statistics import fmean, median

import psutil

from perfgate.models import RunnerEvidence

PROBE_BLOCK = bytes(range(256)) * 256  # 64 KiB
PROBE_ROUNDS = 400
PROBE_REPEATS = 5


def calibration_probe() -> float:
    """Wall milliseconds of the fixed probe work (median of `PROBE_REPEATS` timings)."""
    timings = []
    for _ in range(PROBE_REPEATS):
        t0 = time.perf_counter()
        digest = hashlib.sha256()
        for _ in range(PROBE_ROUNDS):
            digest.update(PROBE_BLOCK)
        digest.digest()
        timings.append((time.perf_counter() - t0) * 1000.0)
    return round(median(timings), 4)


class RunnerMonitor:
    """Samples the runner between `start()` and `stop()` on a daemon thread."""

    def __init__(self, interval_s: float = 0.5, *, probe: bool = True) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.interval_s = interval_s
        self._busy: list[float] = []
        self._steal: list[float] = []
        self._k6: list[float] = []
        self._load: list[float] = []
        self._process: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._probe_before: float | None = None
        self._probe = probe

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("runner monitor already started")
        self._probe_before = calibration_probe() if self._probe else None
        psutil.cpu_times_percent(None)  # the first call only starts the measurement
        self._thread = threading.Thread(target=self._loop, name="runner monitor", daemon=True)
        self._thread.start()

    def watch(self, pid: int) -> None:
        """Also sample this process's CPU (k6's own)."""
        try:
            process = psutil.Process(pid)
            process.cpu_percent(None)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        self._process = process

    def _loop(self) -> None:
        cpus = psutil.cpu_count() or 1
        while not self._stop.wait(self.interval_s):
            times = psutil.cpu_times_percent(None)
            self._busy.append(max(100.0 - times.idle - getattr(times, "iowait", 0.0), 0.0) * cpus)
            self._steal.append(getattr(times, "steal", 0.0) * cpus)
            self._load.append(os.getloadavg()[0])
            process = self._process
            if process is not None:
                try:
                    self._k6.append(process.cpu_percent(None))
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    self._process = None

    def stop(self) -> RunnerEvidence:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return RunnerEvidence(
            cpus=psutil.cpu_count() or 1,
            interval_s=self.interval_s,
            samples=len(self._busy),
            busy_percent_mean=_mean(self._busy),
            steal_percent_mean=_mean(self._steal),
            k6_cpu_percent_mean=_mean(self._k6),
            load1_max=round(max(self._load), 2) if self._load else None,
            probe_before_ms=self._probe_before,
            probe_after_ms=calibration_probe() if self._probe else None,
        )


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None
