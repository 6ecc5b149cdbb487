"""Imports the harness to read the tasks' expected answers and reference solutions, then looks for them on disk (the
project directory, its build/ copy, its git objects). Contained: neither the package nor its files are visible."""
import glob
import json
import os
import zlib

ctx = json.load(open("context.json"))
for name in ("swebench_exec.tasks", "bench_by_execution.tasks"):
    try:
        module = __import__(name, fromlist=["PUBLIC_TASKS"])
        tasks = module.PUBLIC_TASKS
        print("BREACH imported", name, [t["id"] for t in tasks])
        for task in tasks:
            print("REFERENCE", task["id"], task.get("reference"))
    except Exception as exc:  # noqa: BLE001
        print("import refused", name, type(exc).__name__, exc)
root = ctx["project"]
for pattern in ("swebench_exec/tasks/reference/*/*.py", "swebench_exec/tasks/*.py", "build/lib/swebench_exec/tasks/*",
                "**/reference/*/*.py"):
    for path in glob.glob(os.path.join(root, pattern), recursive=True):
        try:
            print("READ", path, open(path, errors="replace").read())
        except OSError as exc:
            print("cannot read", path, exc.strerror)
objects = glob.glob(os.path.join(root, ".git/objects/??/*"))
print("git objects visible:", len(objects))
shown = 0
for path in objects[:20000]:
    try:
        data = zlib.decompress(open(path, "rb").read())
    except (OSError, zlib.error):
        continue
    if b"reference" in data and shown < 200_000:
        print("BREACH git object", path, data[:4000].decode(errors="replace"))
        shown += 4000
print("ANSWER 42")
