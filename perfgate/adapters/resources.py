"""Resource usage of the target while k6 runs: a process tree (psutil) or a container (docker stats).

Both samplers take one sample every `interval_s` in a background thread between `start()` and
`stop()`; `stop()` returns a `ResourceUsage` (samples plus peak and mean). CPU is in percent of
one core (200 = two cores busy), memory is RSS in MB (2**20 bytes).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import fmean
from typing import Protocol

import psutil

from perfgate.errors import UsageError
from perfgate.models import ResourceSample, ResourceUsage

_MB = 1024 * 1024
_SIZE_RE = re.compile(r"^\s*([\d.]+)\s*([KMGTP]?i?B)\s*$", re.IGNORECASE)
_SIZE_FACTOR = {
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "pb": 1e15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}


class Sampler(Protocol):
    """What the k6 runner needs from a sampler."""

    def start(self) -> None: ...

    def stop(self) -> ResourceUsage: ...


class _ThreadedSampler:
    """Calls `_sample()` every `interval_s` on a daemon thread; subclasses say what one sample is."""

    source = ""

    def __init__(self, interval_s: float = 1.0) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.interval_s = interval_s
        self._samples: list[ResourceSample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def _prime(self) -> None:
        """Called once in `start()`, before the first interval."""

    def _sample(self) -> tuple[float, float] | None:
        """(cpu_percent, rss_mb), or None when nothing could be measured this time."""
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("sampler already started")
        self._t0 = time.monotonic()
        self._prime()
        self._thread = threading.Thread(target=self._loop, name=f"sampler {self.source}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            measured = self._sample()
            if measured is not None:
                cpu, rss = measured
                t_s = round(time.monotonic() - self._t0, 3)
                self._samples.append(ResourceSample(t_s=t_s, cpu_percent=round(cpu, 2), rss_mb=round(rss, 2)))

    def stop(self) -> ResourceUsage:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return summarize_samples(self.source, self.interval_s, list(self._samples))


def summarize_samples(source: str, interval_s: float, samples: list[ResourceSample]) -> ResourceUsage:
    """Samples -> ResourceUsage with peak and mean (None when there are no samples)."""
    if not samples:
        return ResourceUsage(source=source, interval_s=interval_s, samples=[])
    cpu = [sample.cpu_percent for sample in samples]
    rss = [sample.rss_mb for sample in samples]
    return ResourceUsage(
        source=source,
        interval_s=interval_s,
        samples=samples,
        cpu_peak_percent=max(cpu),
        cpu_mean_percent=round(fmean(cpu), 2),
        rss_peak_mb=max(rss),
        rss_mean_mb=round(fmean(rss), 2),
    )


def check_pid(pid: int) -> None:
    """`UsageError` unless `pid` is a running process this user may sample."""
    try:
        psutil.Process(pid).cpu_percent(None)
    except psutil.NoSuchProcess:
        raise UsageError(f"--target-pid {pid}: no such process") from None
    except psutil.AccessDenied:
        raise UsageError(f"--target-pid {pid}: not allowed to read that process's CPU and memory") from None


class ResourceSampler(_ThreadedSampler):
    """A process and all its descendants (e.g. the gunicorn master and its workers)."""

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self.pid = pid
        self.source = f"pid {pid} (+children)"
        self._procs: dict[int, psutil.Process] = {}

    def _tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def _prime(self) -> None:
        try:
            self._refresh()
        except psutil.NoSuchProcess:
            self._procs = {}

    def _refresh(self) -> list[psutil.Process]:
        """Current tree, reusing Process objects so cpu_percent() measures since the last call."""
        current: dict[int, psutil.Process] = {}
        for proc in self._tree():
            known = self._procs.get(proc.pid)
            if known is None:
                proc.cpu_percent(None)  # first call only starts the measurement
            current[proc.pid] = known or proc
        fresh = [proc for pid, proc in current.items() if pid in self._procs]
        self._procs = current
        return fresh

    def _sample(self) -> tuple[float, float] | None:
        try:
            procs = self._refresh()
        except psutil.NoSuchProcess:
            return None
        cpu = rss = 0.0
        for proc in procs:
            try:
                with proc.oneshot():
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss / _MB
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return cpu, rss


DockerStats = Callable[[str], str]


class DockerStatsSampler(_ThreadedSampler):
    """A container, through `docker stats --no-stream --format '{{json .}}' NAME` every interval.

    One `docker stats --no-stream` call itself takes about a second (it measures CPU over an
    interval), so samples come every `interval_s` plus that; `t_s` records the real times. Memory
    is the container's `MemUsage` (cgroup usage, page cache included), not strictly RSS.
    `read_stats` replaces the docker call (tests feed canned output through it).
    """

    def __init__(
        self,
        container: str,
        interval_s: float = 1.0,
        *,
        docker: Path | str = "docker",
        read_stats: DockerStats | None = None,
    ) -> None:
        super().__init__(interval_s)
        self.container = container
        self.source = f"container {container}"
        self._docker = str(docker)
        self._read_stats = read_stats or self._run_docker_stats

    def _run_docker_stats(self, container: str) -> str:
        command = [self._docker, "stats", "--no-stream", "--format", "{{json .}}", "--", container]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        return done.stdout if done.returncode == 0 else ""

    def _sample(self) -> tuple[float, float] | None:
        try:
            text = self._read_stats(self.container)
        except (OSError, subprocess.SubprocessError):
            return None
        lines = [line for line in text.splitlines() if line.strip()]
        return parse_docker_stats_line(lines[0]) if lines else None


def parse_docker_stats_line(line: str) -> tuple[float, float] | None:
    """One `docker stats --format '{{json .}}'` line -> (cpu_percent, memory MB), None if unreadable."""
    try:
        data = json.loads(line)
        cpu = float(str(data["CPUPerc"]).strip().rstrip("%"))
        used = str(data["MemUsage"]).split("/")[0]
    except (ValueError, KeyError, TypeError):
        return None
    match = _SIZE_RE.match(used)
    if match is None:
        return None
    number, unit = match.groups()
    return cpu, float(number) * _SIZE_FACTOR[unit.lower()] / _MB
