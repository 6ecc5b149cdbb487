"""Prints without end on stderr. Contained: cut at the output cap (head and tail kept), the run killed."""
import sys

line = b"e" * 65535 + b"\n"
while True:
    sys.stderr.buffer.write(line)
