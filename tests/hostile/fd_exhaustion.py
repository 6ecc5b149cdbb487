"""Opens files and pipes until the descriptor limit refuses, keeps them all open, then answers.
Contained: the limit stops it inside the sandbox; the harness's own descriptors are unaffected."""
import os

held = []
try:
    while True:
        held.append(os.pipe())
except OSError as exc:
    print("stopped after", len(held), "pipes:", exc.strerror)
print("ANSWER 42")
