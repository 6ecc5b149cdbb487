import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (scripted_server, swebench_fixture) import by name
