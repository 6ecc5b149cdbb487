"""Connects to a port the harness's machine listens on at 127.0.0.1 (the test opens it), by IPv4, by name and by
IPv6. Contained: every attempt fails at once (a private network namespace), none hangs, nothing reaches the listener."""
import json
import socket
import time

ctx = json.load(open("context.json"))
port = ctx["port"]
for host in ("127.0.0.1", "localhost", "::1"):
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(b"hostile hello\n")
        result = "BREACH connected"
    except OSError as exc:
        result = f"failed: {exc}"
    print(f"ATTEMPT connect {host} {time.monotonic() - started:.3f}s {result}")
print("ANSWER 42")
