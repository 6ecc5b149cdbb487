"""Writes raw binary on both streams (NUL, 0xFF, terminal escapes, a lone CR, every byte value), then the answer.
Contained: the harness decodes what it keeps without raising and still reads the answer."""
import sys

noise = bytes(range(256)) * 64 + b"\x00\xff\xfe\x1b[2J\x1b]0;owned\x07\r" + bytes(range(255, -1, -1)) * 64
sys.stdout.buffer.write(noise)
sys.stderr.buffer.write(noise)
sys.stdout.buffer.write(b"\nANSWER 42\n")
