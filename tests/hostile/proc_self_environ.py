"""Looks for API keys in its own environment: os.environ and /proc/self/environ.
Contained: no key reaches the sandbox (the harness was started with a distinctive OPENROUTER_API_KEY)."""
import os

print("ENVIRON", dict(os.environ))
print("PROC", open("/proc/self/environ", "rb").read().replace(b"\0", b"\n").decode(errors="replace"))
for key, value in os.environ.items():
    if "KEY" in key or "TOKEN" in key or value.startswith("sk-"):
        print("BREACH key in environment:", key)
print("ANSWER 42")
