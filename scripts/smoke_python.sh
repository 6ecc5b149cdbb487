#!/usr/bin/env bash
# Offline smoke of the package on another Python: a fresh venv, `demo --model gold`, and the parser/scorer tests.
# usage: scripts/smoke_python.sh PYTHON   (e.g. ~/.pyenv/versions/3.12.1/bin/python3.12)
set -euo pipefail
python=$1
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -e "$root[test]"
echo "== $("$venv/bin/python" --version): demo --model gold"
(cd "$(dirname "$venv")" && "$venv/bin/bench-by-execution" demo --model gold --quiet --out gold.json | tail -3)
echo "== $("$venv/bin/python" --version): parser and scorer tests"
cd "$root" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_parse_file_blocks.py \
  tests/test_parse_paths.py tests/test_parse_fallback.py tests/test_tasks.py tests/test_stats.py tests/test_hostile_replies.py \
  tests/test_format_score.py
