import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (scripted_server, swebench_fixture) import by name

# Three real SWE-bench Verified rows, shipped in shared/ beside the checkout (CI lays a copy there too).
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "swebench-sample" / "verified-sample.jsonl"
