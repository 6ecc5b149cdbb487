"""What the executor runs when a reply has no accepted FILE blocks (DESIGN §4). Never used by the format score.

The steps are tried in order, identically for every model, and the first that yields files wins; the method name is
recorded so that results can tell a harnessed answer from a rescued one. Another step (the SWE-bench unified diff)
is added by appending to `STEPS`.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable

from .fenced import FencedBlock, scan_blocks
from .file_blocks import parse_file_blocks, strip_think
from .paths import PathRefused, normalise_path

_PYTHON_TAGS = frozenset({"python", "python3", "py", "py3", ""})
_PATH_TOKEN = re.compile(r"[\w./\\-]+")
_LABEL_NOISE = re.compile(r"[*`#>]")
_LABEL_PREFIX = re.compile(r"^(?:[-+]\s+|\d+[.)]\s+)?(?:(?:file\s?name|file|path)\s*:\s*)?", re.IGNORECASE)


@dataclass
class Extraction:
    """The files to write; `method` is "file_blocks" | "named_block" | "entry_point_block" | "none"."""

    files: dict[str, str]
    method: str
    detail: str


@dataclass(frozen=True)
class Reply:
    """What every step sees: the reply as received (parse_file_blocks strips <think> itself), its top-level fenced
    blocks after <think> is stripped, and the task's expectations."""

    text: str
    blocks: list[FencedBlock]
    expected: list[str]
    entry_point: str | None


def _path_tokens(text: str) -> set[str]:
    """Every path-like word in `text`, normalised ("./report.py." -> "report.py")."""
    found = set()
    for token in _PATH_TOKEN.findall(text):
        try:
            found.add(normalise_path(token.rstrip(".")))
        except PathRefused:
            pass
    return found


def _label(header: str) -> str | None:
    """The path a header line is a label for ("`report.py`:", "**report.py**", "# File: report.py"), or None.

    A label is the path alone, give or take markdown; a sentence that merely mentions a file is not one.
    """
    text = _LABEL_PREFIX.sub("", _LABEL_NOISE.sub("", header).strip())
    try:
        return normalise_path(text)
    except PathRefused:
        return None


def _is_program(source: str, entry_point: str | None = None) -> bool:
    """True when `source` compiles and defines `entry_point` at top level (any function or async def of that
    name); with no entry point, when it is more than a lone expression, so an output block ("3", '{"a": 1}')
    is not mistaken for the program while a one-line `print(...)` still is."""
    try:
        compile(source, "<block>", "exec")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # NUL bytes; absurdly deep expressions
        return False
    if entry_point is not None:
        return any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point for node in tree.body
        )
    code_like = any(not isinstance(node, ast.Expr) for node in tree.body)
    return code_like or any(isinstance(node, ast.Call) for node in ast.walk(tree))


def _mentions(block: FencedBlock, path: str, expected: list[str]) -> bool:
    """The header is a sentence ending in ':' that mentions `path` and no other expected file."""
    header = block.header.rstrip("*` ")
    return header.endswith(":") and _path_tokens(header) & set(expected) == {path}


def _named_block(blocks: list[FencedBlock], path: str, expected: list[str]) -> FencedBlock | None:
    """The block holding `path`: the last one labelled with it (header label or info string); failing that, for a
    Python file, the FIRST block after a sentence mentioning it that is a Python program. First, because a file is
    introduced before it is used ("Run report.py like this:" precedes a usage block)."""
    labelled = [b for b in blocks if _label(b.header) == path or path in _path_tokens(b.info)]
    if labelled:
        return labelled[-1]
    if not path.endswith(".py"):
        return None
    return next((b for b in blocks if _mentions(b, path, expected) and _is_python_program(b, None)), None)


def _is_python_program(block: FencedBlock, entry_point: str | None) -> bool:
    return block.language in _PYTHON_TAGS and _is_program(block.content, entry_point)


def _from_file_blocks(reply: Reply) -> tuple[dict[str, str], str]:
    parsed = parse_file_blocks(reply.text)
    if parsed.files:
        return parsed.files, f"{len(parsed.files)} file(s) from FILE blocks"
    if parsed.defects:
        return {}, "no FILE block accepted (" + ", ".join(f"{d.kind} {d.path}" for d in parsed.defects) + ")"
    return {}, "no FILE blocks"


def _from_named_blocks(reply: Reply) -> tuple[dict[str, str], str]:
    found = {path: _named_block(reply.blocks, path, reply.expected) for path in reply.expected}
    files = {path: block.content for path, block in found.items() if block is not None}
    missing = [path for path in reply.expected if path not in files]
    if not files:
        return {}, "no fenced block named " + ", ".join(reply.expected or ["(no expected files)"])
    located = ", ".join(f"{path} (line {found[path].start + 1})" for path in files)
    return files, f"named: {located}" + (f"; not found: {', '.join(missing)}" if missing else "")


def _from_entry_point_block(reply: Reply) -> tuple[dict[str, str], str]:
    if len(reply.expected) != 1 or not reply.expected[0].endswith(".py"):
        return {}, "applies to a single expected .py file only"
    wanted = f"defines {reply.entry_point}()" if reply.entry_point else "is a program"
    for block in reversed(reply.blocks):
        if _is_python_program(block, reply.entry_point):
            where = f"line {block.start + 1}"
            return {reply.expected[0]: block.content}, f"last python/untagged block that {wanted} ({where})"
    return {}, f"no python/untagged block compiles and {wanted}"


Step = Callable[[Reply], tuple[dict[str, str], str]]  # (files found, why or why not)
STEPS: list[tuple[str, Step]] = [
    ("file_blocks", _from_file_blocks),
    ("named_block", _from_named_blocks),
    ("entry_point_block", _from_entry_point_block),
]


def extract_program(text: str, expected_files: list[str], entry_point: str | None = None) -> Extraction:
    """The files a reply provides, by the first step in `STEPS` that finds any; "none" explains every miss."""
    lines = strip_think(text).split("\n")
    reply = Reply(text, scan_blocks(lines), list(expected_files), entry_point)
    misses = []
    for method, step in STEPS:
        files, detail = step(reply)
        if files:
            return Extraction(files, method, detail)
        misses.append(f"{method}: {detail}")
    return Extraction({}, "none", "; ".join(misses))
