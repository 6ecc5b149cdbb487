#!/usr/bin/env python
"""Benchmark: harness overhead of the public tier and the CLI's cold start (DESIGN §13).

Prints, each the median of N runs:
  demo      whole-process wall time of `bench-by-execution demo --model gold` (5 tasks x 2 arms)
  bare      the same 10 reference-program invocations (30 case runs) with plain subprocess, no harness, no sandbox
  serial    the same demo with --workers 1 --concurrency 1 (no parallelism to hide the overhead)
  ratio     demo / bare            (target <= 1.5)
  help      `bench-by-execution --help` wall time (target <= 0.3 s)
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swebench_exec.tasks import PUBLIC_TASKS


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def demo_once(workdir: Path, *extra: str) -> None:
    subprocess.run(["bench-by-execution", "demo", "--model", "gold", "--quiet", "--overwrite", "--out",
                    str(workdir / "x.json"), *extra], check=True, capture_output=True)  # fmt: skip


def bare_once() -> None:
    """What the harness does minus the harness: prepare, write the reference, run it, for each task and arm."""
    for task in PUBLIC_TASKS:
        for _arm in ("harnessed", "bare"):
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)
                task["harness"]["prepare"](workdir)
                for name, source in task["reference"].items():
                    (workdir / name).write_text(source)
                subprocess.run(task["run"].replace("python", sys.executable, 1).split(), cwd=workdir,
                               check=True, capture_output=True)  # fmt: skip


def help_once() -> None:
    subprocess.run(["bench-by-execution", "--help"], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = statistics.median(timed(lambda: demo_once(Path(tmp))) for _ in range(args.repeat))
        serial = statistics.median(timed(lambda: demo_once(Path(tmp), "--workers", "1", "--concurrency", "1"))
                                   for _ in range(args.repeat))  # fmt: skip
    bare = statistics.median(timed(bare_once) for _ in range(args.repeat))
    help_s = statistics.median(timed(help_once) for _ in range(args.repeat))
    print(f"demo  --model gold : {demo:.3f} s (median of {args.repeat})")
    print(f"demo, one at a time: {serial:.3f} s (--workers 1 --concurrency 1)")
    print(f"bare reference runs: {bare:.3f} s (10 invocations, 30 case runs)")
    print(f"ratio demo / bare  : {demo / bare:.2f}  (target <= 1.5)")
    print(f"ratio serial / bare: {serial / bare:.2f}")
    print(f"--help cold start  : {help_s:.3f} s  (target <= 0.3)")


if __name__ == "__main__":
    main()
