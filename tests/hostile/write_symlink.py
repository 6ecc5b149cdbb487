"""Creates symlinks at run time (to the watched dirs, to a canary, to /) and writes through them; leaves the links
behind for the harness to trip over when it copies files back or cleans up. Contained: nothing outside changes."""
import json
import os
import sys

marker = sys.argv[1]
ctx = json.load(open("context.json"))
links = {}
for index, watched in enumerate(ctx["watch"]):
    links[f"dir-link-{index}"] = watched
for index, canary in enumerate(ctx["canaries"]):
    links[f"canary-link-{index}"] = canary
links["root-link"] = "/"
for name, target in links.items():
    try:
        os.symlink(target, name)
    except OSError as exc:
        print("symlink refused", name, exc.strerror)
attempts = [f"dir-link-{i}/{marker}-via-link.txt" for i in range(len(ctx["watch"]))]
attempts += [f"canary-link-{i}" for i in range(len(ctx["canaries"]))]
attempts += [f"root-link/{w.lstrip('/')}/{marker}-via-root-link.txt" for w in ctx["watch"]]
attempts += [f"root-link/tmp/{marker}-via-root-link.txt"]
for path in attempts:
    try:
        with open(path, "a") as handle:
            handle.write(f"written by {marker}\n")
        print("wrote", path)
    except OSError as exc:
        print("refused", path, exc.strerror)
# A link named like an output the harness might copy back or read, and a directory full of links for cleanup
os.makedirs("out", exist_ok=True)
for index, watched in enumerate(ctx["watch"]):
    try:
        os.symlink(watched, f"out/link-{index}")
    except OSError:
        pass
try:
    os.symlink(ctx["canaries"][0], "answer.json")
except OSError:
    pass
print("ANSWER 42")
