"""format_score: how well a reply follows the contract's *shape*, 0-100, item by item. It never runs anything.

This is the scorer the product exists to distrust: it is kept honest and simple so the gap between it and the
executor (the Format Scorer Trap) is the model's doing, not the scorer's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..parse import ParseResult, parse_file_blocks

# (check name, weight); weights sum to 100.
PUBLIC_CHECKS = (
    ("file_blocks_present", 25),
    ("expected_files_present", 20),
    ("no_unexpected_files", 10),
    ("blocks_closed", 10),
    ("no_refused_paths", 10),
    ("no_duplicate_paths", 5),
    ("info_string_clean", 10),
    ("run_line_names_expected_file", 10),
)


@dataclass
class FormatResult:
    score: float
    checks: list[dict] = field(default_factory=list)
    parse: ParseResult | None = None

    @property
    def reason(self) -> str:
        failed = [c["name"] for c in self.checks if not c["passed"]]
        return "all checks pass" if not failed else "failed: " + ", ".join(failed)

    def record(self) -> dict:
        return {"score": self.score, "reason": self.reason, "checks": self.checks}


def _defects(parsed: ParseResult, kind: str) -> list[str]:
    return [d.path or d.detail for d in parsed.defects if d.kind == kind]


def _public_checks(parsed: ParseResult, expected: list[str]) -> dict[str, tuple[bool, str]]:
    written = list(parsed.files)
    missing = [f for f in expected if f not in parsed.files]
    unexpected = [f for f in written if f not in expected]
    run = parsed.run_command or ""
    run_names = any(PurePosixPath(f).name in run.split() or f in run.split() for f in expected)
    return {
        "file_blocks_present": (bool(parsed.blocks), f"{len(parsed.blocks)} FILE block(s)"),
        "expected_files_present": (not missing, "missing: " + ", ".join(missing) if missing else "all present"),
        "no_unexpected_files": (not unexpected, "unexpected: " + ", ".join(unexpected) if unexpected else "none"),
        "blocks_closed": (not _defects(parsed, "unclosed"), f"unclosed: {_defects(parsed, 'unclosed')}"),
        "no_refused_paths": (not _defects(parsed, "refused_path"), f"refused: {_defects(parsed, 'refused_path')}"),
        "no_duplicate_paths": (not _defects(parsed, "duplicate_path"), f"duplicates: {_defects(parsed, 'duplicate_path')}"),
        "info_string_clean": (
            not _defects(parsed, "stray_language_line"),
            f"stray language line in: {_defects(parsed, 'stray_language_line')}",
        ),
        "run_line_names_expected_file": (bool(run) and run_names, f"RUN: {run}" if run else "no RUN line"),
    }


def weigh(results: dict[str, tuple[bool, str]], weights: tuple[tuple[str, int], ...], gate: bool) -> FormatResult:
    """Sum the weights of passed checks. Without any FILE block (`gate` false) nothing can be verified, so all fail;
    a check that failed on its own says why (a block never closed), the others say they were not checked (rather than
    show an empty list of duplicates, which reads as a pass)."""
    checks = [
        {"name": name, "weight": weight, "passed": bool(gate and results[name][0]),
         "detail": results[name][1] if gate or not results[name][0] else "not checked: no FILE block"}
        for name, weight in weights
    ]  # fmt: skip
    return FormatResult(score=float(sum(c["weight"] for c in checks if c["passed"])), checks=checks)


def format_score(text: str, expected_files: list[str]) -> FormatResult:
    """Score the reply's shape against the contract for a task expecting `expected_files`."""
    parsed = parse_file_blocks(text or "")
    result = weigh(_public_checks(parsed, list(expected_files)), PUBLIC_CHECKS, gate=bool(parsed.blocks))
    result.parse = parsed
    return result


SWEBENCH_CHECKS = (
    ("file_blocks_present", 25),
    ("gold_files_edited", 20),
    ("paths_plausible", 15),
    ("blocks_closed", 10),
    ("no_refused_paths", 10),
    ("no_duplicate_paths", 5),
    ("info_string_clean", 5),
    ("no_elision_markers", 10),
)
# A comment that stands for code the model left out: the file would lose it when written whole.
ELISION = re.compile(
    r"^\s*(#|//|/\*|<!--|\.\.\.)?\s*(\.\.\.|…)?\s*\(?\s*(rest of (the )?(file|code|module|class|function|method)"
    r"|(remains?|remaining|everything else|other (code|methods)|existing code)\b.*\b(unchanged|same|as (before|is))"
    r"|unchanged (code|methods?|functions?)|existing code)",
    re.IGNORECASE,
)


def _elided(files: dict[str, str]) -> list[str]:
    return [path for path, content in files.items() if any(ELISION.match(line) for line in content.splitlines())]


def _swebench_checks(parsed: ParseResult, touched: list[str], repo_dir: Path) -> dict[str, tuple[bool, str]]:
    common = _public_checks(parsed, touched)
    missing = [f for f in touched if f not in parsed.files]
    implausible = [f for f in parsed.files if not (repo_dir / f).exists() and not (repo_dir / f).parent.is_dir()]
    elided = _elided(parsed.files)
    return {
        **common,
        "gold_files_edited": (not missing, "not edited: " + ", ".join(missing) if missing else "all edited"),
        "paths_plausible": (not implausible, "no such file or folder: " + ", ".join(implausible) if implausible else "ok"),
        "no_elision_markers": (not elided, "elided: " + ", ".join(elided) if elided else "none"),
    }


def swebench_format_score(text: str, touched_files: list[str], repo_dir: Path) -> FormatResult:
    """The SWE-bench shape: whole files for every file the gold patch touches, real paths, nothing elided."""
    parsed = parse_file_blocks(text or "")
    result = weigh(_swebench_checks(parsed, list(touched_files), Path(repo_dir)), SWEBENCH_CHECKS, gate=bool(parsed.blocks))
    result.parse = parsed
    return result
