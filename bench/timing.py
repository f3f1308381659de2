"""Timing: interleaved, adaptive, median of repeated samples; and a time limit for one call."""

from __future__ import annotations

import contextlib
import gc
import math
import signal
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


class TimeLimit(BaseException):
    """A call ran past its time limit (raised inside it by SIGALRM). A BaseException, like
    KeyboardInterrupt, so that the `except Exception` of the code under test does not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the body with `TimeLimit` after `seconds` (main thread on POSIX; else no limit).

    A long C call (one BLAS matmul) finishes first; Python code (scalar loops, passes) is cut off.
    The alarm repeats every second until the body has ended, in case something caught it anyway.
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    armed = [True]

    def _raise(signum: int, frame: Any) -> None:
        if armed[0]:
            raise TimeLimit(f"over the {seconds:g} s limit")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def timed(fn: Callable[[], Any], limit: float | None = None) -> tuple[float, Any]:
    """(seconds, result) of one call, under `limit`."""
    with time_limit(limit):
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out


@dataclass
class Plan:
    """How a run samples: each sample is `inner` back-to-back calls (≈ `sample_s` long); an
    implementation gets `budget_s` of sampling, between `min_samples` and `max_samples` samples."""

    sample_s: float
    budget_s: float
    min_samples: int
    max_samples: int


FULL = Plan(sample_s=0.01, budget_s=0.6, min_samples=5, max_samples=21)
QUICK = Plan(sample_s=0.002, budget_s=0.05, min_samples=3, max_samples=3)


@dataclass
class Timed:
    """One implementation being timed: a no-argument callable and its per-call samples."""

    key: str
    call: Callable[[], Any]
    estimate_s: float
    inner: int = 1
    n_samples: int = 0
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def spread(self) -> float | None:
        """Half the inter-quartile range over the median: the noise of this measurement."""
        if len(self.samples) < 4:
            return None
        q = statistics.quantiles(self.samples, n=4)
        med = self.median
        return (q[2] - q[0]) / 2 / med if med else None


def plan_counts(t: Timed, plan: Plan) -> None:
    est = max(t.estimate_s, 1e-7)
    t.inner = max(1, math.floor(plan.sample_s / est))
    per_sample = t.inner * est
    t.n_samples = int(min(plan.max_samples, max(plan.min_samples, plan.budget_s // per_sample)))
    if per_sample * plan.min_samples > 8 * plan.budget_s:  # very slow: a few samples only
        t.n_samples = min(3, plan.min_samples)


def _sample(call: Callable[[], Any], inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        call()
    return (time.perf_counter() - t0) / inner


def run_interleaved(items: Sequence[Timed], plan: Plan) -> None:
    """Sample every item round-robin (the order rotates each round), so slow drifts of the
    machine (other processes, thermal state) hit every implementation alike. The garbage
    collector runs once before and is off during the rounds (as in timeit)."""
    for t in items:
        plan_counts(t, plan)
    rounds = max((t.n_samples for t in items), default=0)
    gc_was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            active = [t for t in items if len(t.samples) < t.n_samples]
            k = r % len(active) if active else 0
            for t in active[k:] + active[:k]:
                t.samples.append(_sample(t.call, t.inner))
    finally:
        if gc_was:
            gc.enable()


def fit_exponent(sizes: Sequence[float], times: Sequence[float]) -> float | None:
    """Least-squares slope of log(time) against log(size)."""
    pts = [(math.log(s), math.log(t)) for s, t in zip(sizes, times) if s > 0 and t > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
