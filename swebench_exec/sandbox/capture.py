"""Bounded capture of a program's output: the harness keeps head and tail, however much the program prints."""
from __future__ import annotations

import re
import threading
from typing import BinaryIO, Callable

CUT_LINE = "[... {} bytes cut by the harness ...]"  # stands where a stream's middle was dropped
CUT_MARK = re.compile("^" + re.escape(CUT_LINE).replace(re.escape("{}"), r"\d+") + "$", re.MULTILINE)


class HeadTail:
    """Keeps the first and last `keep` bytes of a stream and counts the rest, so memory stays bounded."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.keep:
                del self.tail[: len(self.tail) - self.keep]

    def text(self) -> str:
        dropped = self.total - len(self.head) - len(self.tail)
        middle = f"\n{CUT_LINE.format(dropped)}\n".encode() if dropped > 0 else b""
        return (bytes(self.head) + middle + bytes(self.tail)).decode("utf-8", errors="replace")


def drain(stream: BinaryIO, sink: HeadTail, cap: int, on_cap: Callable[[], None]) -> threading.Thread:
    """Read `stream` to its end on a thread; call `on_cap` once when more than `cap` bytes arrive."""

    def pump() -> None:
        capped = False
        with stream:
            while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
                sink.add(chunk)
                if not capped and sink.total > cap:
                    capped = True
                    on_cap()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread
