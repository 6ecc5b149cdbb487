"""Reads the session keyring it inherited (the harness's login session may hold Kerberos tickets or tokens there),
then plants a key of its own for later runs to find. Contained: the keyring calls are refused (the harness holds a
key whose payload is the test's secret)."""
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
KEYCTL, ADD_KEY = {"x86_64": (250, 248), "aarch64": (219, 217)}[os.uname().machine]
SESSION, DESCRIBE, READ = -3, 6, 11


def keyctl(op: int, key: int, size: int = 4096) -> bytes | None:
    buffer = ctypes.create_string_buffer(size)
    length = libc.syscall(KEYCTL, op, key, buffer, size)
    if length < 0:
        print("keyctl", op, key, "refused:", os.strerror(ctypes.get_errno()))
        return None
    return buffer.raw[:length]


listing = keyctl(READ, SESSION)
for offset in range(0, len(listing or b""), 4):
    key = int.from_bytes(listing[offset:offset + 4], "little")
    print("KEY", key, keyctl(DESCRIBE, key), keyctl(READ, key))
if libc.syscall(ADD_KEY, b"user", b"planted", b"x", 1, SESSION) >= 0:
    print("BREACH planted a key in the session keyring")
print("ANSWER 42")
