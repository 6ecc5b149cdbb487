"""Looks for the project checkout from a harness started elsewhere (not from the checkout, whose folder is hidden
anyway): the committed results hold gold's replies, i.e. every public task's reference solution, and .git holds the
rest. Contained: nothing of the checkout is there (the test's secrets include a line of a reference solution)."""
import glob
import json
import os

ctx = json.load(open("context.json"))
root = ctx["project"]
print("checkout visible:", os.path.isdir(root), sorted(os.listdir(root)) if os.path.isdir(root) else None)
for path in sorted(glob.glob(os.path.join(root, "results", "*.json"))):
    try:
        rows = json.load(open(path)).get("rows", [])
    except (OSError, ValueError) as exc:
        print("cannot read", path, exc)
        continue
    for row in rows:
        text = (row.get("response") or {}).get("text") or ""
        if "```" in text:
            print("BREACH reference reply in", path, row.get("task_id"), text[:3000])
            break
for path in (os.path.join(root, ".git", "HEAD"), os.path.join(root, "README.md")):
    if os.path.exists(path):
        print("BREACH readable", path)
print("ANSWER 42")
