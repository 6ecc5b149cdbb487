"""Leaves a symlink to every canary and watched dir, each alone in a directory it makes read-only, then answers. The
harness must remove those directories afterwards: it may never act on a link's target while doing so (a chmod or a
delete that follows the link changes a file outside the sandbox that the program itself could not touch)."""
import json
import os

ctx = json.load(open("context.json"))
for index, target in enumerate(ctx["canaries"] + ctx["watch"]):
    os.makedirs(f"locked-{index}")
    os.symlink(target, f"locked-{index}/link")
    os.chmod(f"locked-{index}", 0o555)
print("ANSWER 42")
