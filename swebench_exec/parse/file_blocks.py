"""The FILE-block parser (DESIGN §4): `FILE: <path>`, a fenced block holding the whole file, and a `RUN:` line.

Rules beyond the design text, decided here:
- Headers: `FILE:` in any case (`File:`), optionally bold (`**FILE: x**`, `**FILE:** x`) or after a markdown heading
  (`### FILE: x`); the first backticked span is the path when there is one. A header counts only when its next
  non-blank line is an opening fence — that guard is what makes a case-insensitive match safe.
- A header always starts a new block, even inside another block's fence: a truncated block then costs one file,
  not every file after it.
- Where a block ends (candidates = bare fences of the opener's character, at least as long, outside nested blocks):
  in a markup file (.md, .markdown, .mdx, .rst, .txt) the LAST candidate before the next header, or before a `RUN:`
  line that follows a candidate, since a README may hold untagged blocks of its own; in any other file the FIRST
  candidate, since a bare fence line is never code, so what follows is prose (a trailing "Output:" block must not
  be swallowed even without a RUN line).
- `RUN:` must be upper-case (prose says "Run: ..."); the last one outside every block wins; bold and backticks around
  the command are dropped.
- Line numbers count lines of the reply after `strip_think`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from .fenced import LANGUAGE_WORDS, FenceMap
from .paths import PathRefused, normalise_path

_HEADER = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+)?(\*\*|__)?FILE:(?:\*\*|__)?[ \t]*(.*)$")  # upper case, as the contract asks
_RUN = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+)?(\*\*|__)?RUN:(?:\*\*|__)?[ \t]*(.*)$")
_BACKTICKED = re.compile(r"`([^`]+)`")
_MARKUP_SUFFIXES = (".md", ".markdown", ".mdx", ".rst", ".txt")


@dataclass
class Defect:
    """Something wrong with the reply's shape. kind: "unclosed" | "refused_path" | "duplicate_path" |
    "stray_language_line"; `line` is the 1-based line of the block's header; for "refused_path" `detail` is the
    `PathRefused.reason` token and `path` the path as written."""

    kind: str
    path: str | None
    line: int
    detail: str


@dataclass
class FileBlock:
    """One closed block with an accepted path; `line` is the 1-based line of its header."""

    path: str
    content: str
    info: str
    line: int


@dataclass
class ParseResult:
    files: dict[str, str] = field(default_factory=dict)  # path -> content; last occurrence wins
    blocks: list[FileBlock] = field(default_factory=list)  # every accepted block, duplicates included, in order
    run_command: str | None = None
    defects: list[Defect] = field(default_factory=list)

    def record(self) -> dict:
        """What a results row keeps: names, sizes and hashes (enough to compare reruns), never the contents,
        which the row already holds as the response text."""
        return {
            "files": [_file_record(path, content) for path, content in self.files.items()],
            "blocks": [{"path": b.path, "line": b.line, "info": b.info} for b in self.blocks],
            "run_command": self.run_command,
            "defects": [asdict(d) for d in self.defects],
        }

    def _accept(self, block: FileBlock) -> None:
        """Add a closed block with a valid path, recording duplicates and a stray language line."""
        if block.path in self.files:
            first = next(b.line for b in self.blocks if b.path == block.path)
            self.defects.append(Defect("duplicate_path", block.path, block.line, f"also at line {first}; last wins"))
        first_line = block.content.split("\n", 1)[0].strip()
        if first_line.lower() in LANGUAGE_WORDS:
            detail = f"first content line is {first_line!r}; content kept as written"
            self.defects.append(Defect("stray_language_line", block.path, block.line, detail))
        self.blocks.append(block)
        self.files[block.path] = block.content


def _file_record(path: str, content: str) -> dict:
    data = content.encode("utf-8", "surrogatepass")
    return {"path": path, "bytes": len(data), "lines": content.count("\n"), "sha256": hashlib.sha256(data).hexdigest()}


def strip_think(text: str) -> str:
    """Normalise CRLF/CR to LF and drop a leading `<think>...</think>` span (reasoning is not the answer).

    A leading `<think>` that never closes drops everything: the reply was cut off while thinking, so any fence in it
    is a draft, not an answer. Only a LEADING span counts; `<think>` later on may be part of a file.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.lstrip()
    if not body.startswith("<think>"):
        return text
    close = body.find("</think>")
    return "" if close < 0 else body[close + len("</think>") :].lstrip("\n")


def _unwrap(value: str, bold: str | None) -> str:
    """Drop the bold closer matching a `**` before the marker, and prefer a backticked span when there is one."""
    if bold and value.endswith(bold):
        value = value[: -len(bold)].rstrip()
    match = _BACKTICKED.search(value)
    return match.group(1).strip() if match else value


def _header(fences: FenceMap, index: int) -> tuple[str, int] | None:
    """(raw path, index of the opening fence) when line `index` is a FILE header followed by a fence."""
    lines = fences.lines
    match = _HEADER.match(lines[index].rstrip(" \t"))
    if not match:
        return None
    fence_at = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
    if fence_at is None or fences.fences[fence_at] is None:
        return None
    return _unwrap(match.group(2), match.group(1)), fence_at


def _run_line(line: str) -> str | None:
    """The command on a `RUN:` line ("" when it has none), or None."""
    match = _RUN.match(line.rstrip(" \t"))
    return _unwrap(match.group(2), match.group(1)) if match else None


def _block_end(fences: FenceMap, fence_at: int, stop: int, markup: bool) -> int | None:
    """Index of the fence that closes the FILE block opened at `fence_at` (see the module docstring), or None."""
    if not markup:
        return next(fences.closers(fence_at, stop), None)
    candidates = list(fences.closers(fence_at, stop))
    if candidates:
        run_at = next((i for i in range(candidates[0], stop) if _run_line(fences.lines[i]) is not None), stop)
        candidates = [i for i in candidates if i < run_at]
    return candidates[-1] if candidates else None


def _read_block(fences: FenceMap, at: int, raw: str, fence_at: int, stop: int, result: ParseResult) -> int:
    """Parse the block whose header is at `at` into `result`; return the index where outside text resumes."""
    try:
        path: str | None = normalise_path(raw)
    except PathRefused as exc:
        path = None
        result.defects.append(Defect("refused_path", raw, at + 1, exc.reason))
    name = path or raw
    end = _block_end(fences, fence_at, stop, name.lower().endswith(_MARKUP_SUFFIXES))
    opener = fences.fences[fence_at]
    if end is None:
        where = "the next FILE header" if stop < len(fences.lines) else "the end of the reply"
        closer = opener.char * opener.length
        result.defects.append(Defect("unclosed", name, at + 1, f"no closing {closer} before {where}"))
        return stop
    if path is not None:
        result._accept(FileBlock(path, fences.content(fence_at, end), opener.info, at + 1))
    return end + 1


def _run_command(fences: FenceMap, spans: list[range]) -> str | None:
    """The last non-empty `RUN:` command on a line outside every block."""
    command = None
    for span in spans:
        inside = {i for block in fences.blocks(span.start, span.stop) for i in range(block.start, block.end + 1)}
        for i in span:
            found = None if i in inside else _run_line(fences.lines[i])
            command = found or command
    return command


def parse_file_blocks(text: str) -> ParseResult:
    """Every FILE block, defect and the RUN command in a reply. Never raises on model output."""
    fences = FenceMap(strip_think(text).split("\n"))
    size = len(fences.lines)
    headers = [(i, *found) for i in range(size) if (found := _header(fences, i))]
    stops = [at for at, _, _ in headers[1:]] + [size]
    result = ParseResult()
    outside = [range(0, headers[0][0] if headers else size)]
    for (at, raw, fence_at), stop in zip(headers, stops):
        outside.append(range(_read_block(fences, at, raw, fence_at, stop, result), stop))
    result.run_command = _run_command(fences, outside)
    return result
