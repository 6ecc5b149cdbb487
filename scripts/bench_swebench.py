#!/usr/bin/env python
"""Benchmark: harness overhead per SWE-bench instance (DESIGN §13: everything but the test run <= 10% of wall time).

Runs `bench-by-execution validate` with the arguments given (e.g. --dataset, --instance-ids, --repo-cache, --sandbox,
--repeat 3) into a temporary validation file, then prints per instance and kind (gold / empty) the median wall time,
the time inside the eval script (`test_s`: git restore, test_patch, the test command), and the overhead ratio
(wall - test) / wall. The first run of an instance also pays the environment build: it is shown apart.

    python scripts/bench_swebench.py --dataset ../shared/swebench-sample/verified-sample.jsonl \
        --instance-ids sympy__sympy-20590 --repo-cache ~/mirrors --sandbox local --repeat 3
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "validation.json"
        subprocess.run(["bench-by-execution", "validate", *sys.argv[1:], "--validation-out", str(out), "--quiet"],
                       check=False)  # fmt: skip
        record = json.loads(out.read_text())
    print(f"\n{'instance':<28} {'kind':<6} {'wall s':>7} {'test s':>7} {'overhead':>9}   first run (env build)")
    for instance_id, entry in record.items():
        first = entry["timings"][0]
        for kind in ("gold", "empty"):
            warm = [t for t in entry["timings"][1:] if t["kind"] == kind] or [t for t in entry["timings"] if t["kind"] == kind]
            wall = statistics.median(t["total_s"] for t in warm)
            test = statistics.median(t["test_s"] for t in warm)
            note = f"{first['total_s']:.1f}s incl. setup {first['setup_s']:.1f}s" if kind == first["kind"] else ""
            print(f"{instance_id:<28} {kind:<6} {wall:>7.2f} {test:>7.2f} {(wall - test) / wall:>8.1%}   {note}")


if __name__ == "__main__":
    main()
