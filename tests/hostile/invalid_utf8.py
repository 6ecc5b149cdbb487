"""Emits invalid UTF-8 (a surrogate encoded, overlong forms, a truncated sequence at the end of each stream) and
exits 3. Contained: the run is classified a crash whose reason is valid text."""
import sys

bad = b"\xed\xa0\x80 \xc0\xaf \xe0\x80\xaf \xf8\x88\x80\x80\x80 \xff\xfe "
sys.stdout.buffer.write(bad * 1000 + b"\xe2\x82")
sys.stderr.buffer.write(b"Traceback? " + bad + b"\n" + bad + b"\xf0\x9f\x98")
sys.exit(3)
