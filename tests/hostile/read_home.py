"""Walks the user's home (by absolute path) and the directory the harness was started from, printing names and the
content of small files. Contained: the home and the project are not visible (the test plants a canary in the home)."""
import json
import os

ctx = json.load(open("context.json"))
for top in {ctx["home"], ctx["project"], "/root", "/home"}:
    try:
        for dirpath, dirnames, filenames in os.walk(top):
            skip = (".git", ".pyenv", ".cache", ".rustup", ".cargo", "node_modules")
            dirnames[:] = [d for d in dirnames if d not in skip]
            for name in filenames:
                path = os.path.join(dirpath, name)
                print("FOUND", path)
                try:
                    if os.path.getsize(path) < 4096:
                        print("READ", path, open(path, errors="replace").read())
                except OSError:
                    pass
    except OSError as exc:
        print("cannot walk", top, exc.strerror)
print("ANSWER 42")
