"""Prints without end on stdout. Contained: cut at the output cap (head and tail kept), the run killed."""
import sys

line = b"y" * 65535 + b"\n"
while True:
    sys.stdout.buffer.write(line)
