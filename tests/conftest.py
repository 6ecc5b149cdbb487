import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (scripted_server, swebench_fixture) import by name

# Three real SWE-bench Verified rows, shipped in shared/ beside the checkout (CI lays a copy there too).
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "swebench-sample" / "verified-sample.jsonl"


def unavailable(what: str, reason: str, require_env: str) -> None:
    """Skip a test whose service is missing, saying why; with `require_env`=1 (as CI sets it) fail instead, so a
    missing install can never hide behind a skip."""
    import os

    import pytest

    message = f"{what} tests not run: {reason}"
    print(f"\n[{what}] {message}", file=sys.stderr, flush=True)
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{message} ({require_env}=1)", pytrace=False)
    pytest.skip(message)
