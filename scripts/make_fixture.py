#!/usr/bin/env python
"""Build the SWE-bench fixture instance (a tiny real repo with a bug, its gold patch and a test patch) into DIR:
DIR/fixture.jsonl (the dataset row) and DIR/repo-cache/fixture__calc (a bare mirror), for runs by hand:

    python scripts/make_fixture.py /tmp/fx
    bench-by-execution swebench --models gold --dataset /tmp/fx/fixture.jsonl --repo-cache /tmp/fx/repo-cache
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
try:
    from swebench_fixture import make_fixture_dataset
except ModuleNotFoundError as exc:  # GitPython comes with the [swebench] extra
    sys.exit(f"error: this script needs the {exc.name!r} package, from the [swebench] extra: "
             "pip install -e '.[swebench]'")

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    root.mkdir(parents=True, exist_ok=True)
    dataset, cache, _ = make_fixture_dataset(root)
    print(f"dataset:    {dataset}\nrepo cache: {cache}")
