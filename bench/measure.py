"""Shared timing, memory and reporting for the benchmarks (ratios, never absolute limits)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def best_time(run: Callable[[], Any], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(run: Callable[[], Any]) -> int:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def report(title: str, results: dict[str, tuple[float, float]], targets: dict[str, float]) -> int:
    """Print measured vs baseline with the ratio and its target; 1 if a target is missed."""
    print(title)
    failed = False
    for name, (measured, base) in results.items():
        ratio = measured / base
        verdict = "ok" if ratio <= targets[name] else "OVER TARGET"
        failed |= ratio > targets[name]
        unit, scale = ("ms", 1000.0) if name == "time" else ("KiB", 1 / 1024)
        print(
            f"  {name:6} {measured * scale:9.1f} {unit} vs {base * scale:9.1f} {unit}"
            f"  ratio {ratio:5.2f} (target <= {targets[name]:g})  {verdict}"
        )
    return 1 if failed else 0
