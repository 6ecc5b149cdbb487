"""The one fenced-code-block scanner, shared by the FILE-block parser and the executor's fallbacks.

It follows CommonMark where CommonMark is clear (fence of 3+ backticks or tildes, indented at most 3 spaces, a
backtick fence's info string has no backtick, the closer is bare and at least as long) and adds one rule CommonMark
lacks: a fence line WITH an info string inside a block opens a nested block, whose own closer is content. That is
how a README holding ```bash ... ``` or a docstring holding ```python ... ``` survives without ending the outer block.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*(.*)$")  # matched on the line without trailing blanks

# Words a model writes on the fence line to name a language; alone on a content line they are a stray tag.
LANGUAGE_WORDS = frozenset(
    "python python3 py py3 bash sh shell zsh console javascript js node typescript ts json yaml yml toml ini "
    "text txt plaintext markdown md html css sql java go rust ruby diff xml csv".split()
)


@dataclass(frozen=True)
class Fence:
    """One fence line: `indent` spaces, `length` copies of `char`, then the info string."""

    indent: int
    char: str
    length: int
    info: str

    @property
    def language(self) -> str:
        """The info string's first word, lower-cased ("" when untagged)."""
        return self.info.split()[0].lower() if self.info else ""

    def closes(self, opener: "Fence") -> bool:
        """A closer is bare, of the opener's character and at least as long."""
        return not self.info and self.char == opener.char and self.length >= opener.length


@dataclass(frozen=True)
class FencedBlock:
    """A closed block: `start` and `end` are 0-based indexes of its fence lines; `header` is the last non-blank
    line before the opener that is not inside another block ("" if none), which fallbacks read as a file label."""

    fence: Fence
    start: int
    end: int
    content: str
    header: str

    @property
    def info(self) -> str:
        return self.fence.info

    @property
    def language(self) -> str:
        return self.fence.language


def parse_fence(line: str) -> Fence | None:
    """The fence on `line`, or None."""
    match = _FENCE.match(line.rstrip(" \t"))
    if not match:
        return None
    indent, run, info = match.groups()
    if run[0] == "`" and "`" in info:
        return None  # "```x```" on one line is inline code, not a fence
    return Fence(len(indent), run[0], len(run), info)


class FenceMap:
    """The fences of one reply, parsed once, with each nested block's end precomputed, so that finding closers is
    linear in the reply even for hostile input (thousands of openers that never close)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.fences = [parse_fence(line) for line in lines]
        self._at = [i for i, fence in enumerate(self.fences) if fence]
        self._nested_end = self._nested_ends()

    def _nested_ends(self) -> dict[int, int]:
        """For each fence with an info string, the index of the first later bare fence that closes it."""
        ends: dict[int, int] = {}
        next_bare: dict[tuple[str, int], int] = {}  # (char, length) -> nearest bare fence below
        for index in reversed(self._at):
            fence = self.fences[index]
            if not fence.info:
                next_bare[(fence.char, fence.length)] = index
                continue
            closers = [i for (char, length), i in next_bare.items() if char == fence.char and length >= fence.length]
            if closers:
                ends[index] = min(closers)
        return ends

    def closers(self, start: int, stop: int) -> Iterator[int]:
        """Indexes in (start, stop) of every fence that could close the opener at `start`, in order.

        Nested blocks (opened by a fence with an info string) are skipped whole, and one that never closes hides
        everything after it; bare fences shorter or of the other character are plain content. Callers pick the
        first or the last candidate.
        """
        opener = self.fences[start]
        position = bisect.bisect_right(self._at, start)
        while position < len(self._at) and self._at[position] < stop:
            index = self._at[position]
            fence = self.fences[index]
            if fence.info:
                if index not in self._nested_end:
                    return
                position = bisect.bisect_right(self._at, self._nested_end[index])
                continue
            if fence.closes(opener):
                yield index
            position += 1

    def content(self, start: int, end: int) -> str:
        """The text between the fences at `start` and `end`, minus the opener's indent; one trailing newline, or ""."""
        indent = self.fences[start].indent
        body = [_dedent(line, indent) for line in self.lines[start + 1 : end]]
        return "\n".join(body) + "\n" if body else ""

    def blocks(self, start: int = 0, stop: int | None = None) -> list[FencedBlock]:
        """Top-level closed blocks in lines[start:stop], in order. Each ends at its first candidate closer; an
        opener that never closes (a truncated reply) is read as a plain line."""
        stop = len(self.lines) if stop is None else stop
        found: list[FencedBlock] = []
        header = ""
        index = start
        while index < stop:
            end = next(self.closers(index, stop), None) if self.fences[index] else None
            if end is not None:
                found.append(FencedBlock(self.fences[index], index, end, self.content(index, end), header))
                header, index = "", end + 1
                continue
            header = self.lines[index].strip() or header
            index += 1
        return found


def _dedent(line: str, indent: int) -> str:
    """Remove up to `indent` leading spaces (CommonMark: an indented fence shifts its content by as much)."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def scan_blocks(lines: Sequence[str]) -> list[FencedBlock]:
    """Top-level closed blocks of a whole reply (see `FenceMap.blocks`)."""
    return FenceMap(lines).blocks()
