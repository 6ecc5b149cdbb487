"""Writes outside its directory through `..`: beside the sandbox dir, at the top of /tmp, and over the watched
canaries by a relative path. Contained: nothing appears or changes outside the sandbox."""
import json
import os
import sys

marker = sys.argv[1]
ctx = json.load(open("context.json"))
targets = [f"../{marker}-dotdot.txt", f"../../{marker}-dotdot.txt", "../" * 16 + f"tmp/{marker}-dotdot.txt"]
for canary in ctx["canaries"]:
    targets.append(os.path.relpath(canary, os.getcwd()))
    targets.append("../" * 16 + canary.lstrip("/"))
for watched in ctx["watch"]:
    targets.append(os.path.join(os.path.relpath(watched, os.getcwd()), f"{marker}-dotdot.txt"))
for target in targets:
    try:
        with open(target, "a") as handle:
            handle.write(f"written by {marker}\n")
        print("wrote", target)
    except OSError as exc:
        print("refused", target, exc.strerror)
print("ANSWER 42")
