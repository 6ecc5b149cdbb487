"""Writes to absolute paths outside its directory: the watched dirs, /tmp, /var/tmp, the user's home, and over the
canaries (append, truncate, chmod, delete, rename). Contained: nothing outside the sandbox changes."""
import json
import os
import sys

marker = sys.argv[1]
ctx = json.load(open("context.json"))
places = [*ctx["watch"], "/tmp", "/var/tmp", ctx["home"], os.path.join(ctx["home"], ".ssh")]
for place in places:
    target = os.path.join(place, f"{marker}-absolute.txt")
    try:
        with open(target, "w") as handle:
            handle.write("x")
        print("wrote", target)
    except OSError as exc:
        print("refused", target, exc.strerror)
for canary in ctx["canaries"]:
    for name, attempt in [
        ("append", lambda p: open(p, "a").write("appended\n")),
        ("truncate", lambda p: open(p, "w").close()),
        ("chmod", lambda p: os.chmod(p, 0o777)),
        ("rename", lambda p: os.rename(p, p + ".moved")),
        ("delete", os.remove),
    ]:
        try:
            attempt(canary)
            print(name, canary, "done")
        except OSError as exc:
            print(name, canary, "refused", exc.strerror)
print("ANSWER 42")
