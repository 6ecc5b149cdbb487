"""Hard-links the watched canaries into its own directory and writes to the links (a hard link is the same file, so
a write would change the original). Contained: the link is refused or lands on a copy; the canaries are unchanged."""
import json
import os
import sys

marker = sys.argv[1]
ctx = json.load(open("context.json"))
for index, canary in enumerate(ctx["canaries"]):
    name = f"hard-{index}"
    try:
        os.link(canary, name)
        with open(name, "a") as handle:
            handle.write(f"written by {marker}\n")
        print("linked and wrote", canary)
    except OSError as exc:
        print("refused", canary, exc.strerror)
print("ANSWER 42")
