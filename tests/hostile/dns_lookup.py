"""Resolves host names (a documentation domain, the harness machine's own name is fine to know). Never connects
anywhere. Contained: resolution of an outside name fails at once (no network), it does not hang."""
import socket
import time

for name in ("example.com", "pypi.org"):
    started = time.monotonic()
    try:
        answer = socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)
        result = f"BREACH resolved {sorted({a[4][0] for a in answer})}"
    except OSError as exc:
        result = f"failed: {exc}"
    print(f"ATTEMPT resolve {name} {time.monotonic() - started:.3f}s {result}")
print("ANSWER 42")
