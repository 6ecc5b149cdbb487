"""Reads the user's ~/.ssh (by the real home's absolute path, by $HOME and by ~) and prints every file it finds.
Contained: none of the user's keys is visible (the test plants one with a distinctive content)."""
import json
import os

ctx = json.load(open("context.json"))
for ssh in {os.path.join(ctx["home"], ".ssh"), os.path.expanduser("~/.ssh"), "/root/.ssh"}:
    try:
        names = os.listdir(ssh)
    except OSError as exc:
        print("cannot list", ssh, exc.strerror)
        continue
    print("listed", ssh, names)
    for name in names:
        try:
            print("READ", name, open(os.path.join(ssh, name), errors="replace").read())
        except OSError as exc:
            print("cannot read", name, exc.strerror)
print("ANSWER 42")
