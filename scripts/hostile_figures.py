#!/usr/bin/env python3
"""Run the hostile corpus (tests/test_hostile_corpus.py) and print how many cases each sandbox contains.

    python scripts/hostile_figures.py                 # prints "local: N/M contained, docker: N/M contained"
    python scripts/hostile_figures.py --json out.json # the same, plus every case's result, as JSON
    python scripts/hostile_figures.py -- -x           # anything after `--` goes to pytest

A case is *contained* in a sandbox when every check of it passed there: the harness survived in bounded time, nothing
outside the sandbox changed, no process or container remained, no secret was visible, and the outcome (status and
reason) is the right one. Cases marked xfail are known product bugs: they count as not contained, and are listed with
their reason. Cases that cannot run in a sandbox (skipped, reason in the test id) are left out of that sandbox's total.
The run gets a distinctive OPENROUTER_API_KEY in its real environment, as a user's sweep would have.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILE = "tests/test_hostile_corpus.py"
CASE_TESTS = ("test_hostile", "test_hostile_swebench")  # the corpus; other tests in the module are not cases
SANDBOXES = ("local", "docker")
NAME = re.compile(r"^(?P<test>\w+)\[(?P<case>[\w.]+)-(?P<sandbox>local|docker)(?:-skip:[^\]]*)?\]$")
FAKE_KEY = "sk-or-v1-hostile-figures-0d6e2b8a4c1f4e7a9b3c5d7e9f1a2b4c"


def run_corpus(junit: Path, extra: list[str]) -> int:
    env = {**os.environ, "OPENROUTER_API_KEY": FAKE_KEY}
    command = [sys.executable, "-m", "pytest", TEST_FILE, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *extra]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def read_results(junit: Path) -> list[dict]:
    results = []
    for testcase in ET.parse(junit).getroot().iter("testcase"):
        match = NAME.match(testcase.get("name", ""))
        if not match or match.group("test") not in CASE_TESTS:
            continue
        outcome, detail = "contained", ""
        for child in testcase:
            if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                outcome, detail = "known_bug", child.get("message", "")
            elif child.tag == "skipped":
                outcome, detail = "not_applicable", child.get("message", "")
            elif child.tag in ("failure", "error"):
                outcome, detail = "not_contained", (child.get("message") or "").splitlines()[0][:300]
        results.append({"case": match.group("case"), "sandbox": match.group("sandbox"), "outcome": outcome,
                        "detail": detail})  # fmt: skip
    return results


def figures(results: list[dict]) -> dict:
    out = {}
    for sandbox in SANDBOXES:
        mine = [r for r in results if r["sandbox"] == sandbox and r["outcome"] != "not_applicable"]
        out[sandbox] = {"contained": sum(r["outcome"] == "contained" for r in mine), "total": len(mine)}
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures and every case's result here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-figures-") as tmp:
        junit = Path(tmp) / "corpus.xml"
        code = run_corpus(junit, extra)
        if not junit.exists():
            print(f"hostile_figures: pytest wrote no report (exit {code})", file=sys.stderr)
            return 2
        results = read_results(junit)
    counts = figures(results)
    elapsed = time.monotonic() - started
    print()
    print(", ".join(f"{s}: {counts[s]['contained']}/{counts[s]['total']} contained" for s in SANDBOXES))
    for label, outcome in (("known product bugs (xfail)", "known_bug"), ("NOT contained (failed)", "not_contained"),
                           ("not applicable", "not_applicable")):  # fmt: skip
        rows = [r for r in results if r["outcome"] == outcome]
        if rows:
            print(f"{label}:")
            for r in rows:
                print(f"  {r['sandbox']:6} {r['case']}: {r['detail'][:160]}")
    print(f"({len(results)} case runs in {elapsed:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps({"figures": counts, "results": results, "pytest_exit": code}, indent=2))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
