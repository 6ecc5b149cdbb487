"""`report`: read one or more results files, recompute the summary per tier from their rows, write the three files.

Rows are the source of truth (the stored summaries are not trusted or merged): all rows are concatenated and
`run.summary.summarize` is run once per tier, so a model x arm in two files is one series, and public tasks and
SWE-bench instances never share a mean or a verdict. A model that appears in several files of one tier has its
samples pooled: a file whose (task, arm, sample) units collide with an earlier file's gets its sample numbers shifted
(said in the report), so a harnessed reply is still paired with the bare reply of its own run.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..run.store import OutputError, load_results
from ..run.summary import ARMS, is_scored, summarize
from ..run.stats import wilson_interval

SUMMARY_MD, PLOT_PNG, INDEX_HTML = "summary.md", "cost_vs_solve.png", "index.html"
TIER_ORDER = ("public", "swebench")


@dataclass
class Source:
    """One results file the report was built from."""

    path: Path
    config: dict
    rows: int
    tiers: list[str]

    def describe(self) -> str:
        c = self.config
        models = ", ".join(map(str, c.get("models") or [])) or "?"
        contract = (c.get("contract") or {}).get("version") or "?"
        return (f"{self.path} — {c.get('command', '?')}, tier {'/'.join(self.tiers) or '?'}, {self.rows} rows, "
                f"models {models}, contract {contract}, tool {c.get('tool_version', '?')}, "
                f"finished {c.get('finished_at') or 'unfinished'}")  # fmt: skip


@dataclass
class Series:
    """One model x arm x tier: the summary's arm record plus what the report derives from it."""

    tier: str
    model: str
    arm: str
    stats: dict

    @property
    def scored(self) -> int:
        return self.stats["scored"]

    @property
    def solved(self) -> int:
        return self.stats["solved"]

    @property
    def solve_rate(self) -> float | None:
        return self.solved / self.scored if self.scored else None

    @property
    def solve_ci(self) -> tuple[float, float] | None:
        ci = (self.stats.get("solve_rate") or {}).get("ci95")  # summarize's Wilson interval
        return tuple(ci) if ci else wilson_interval(self.solved, self.scored)

    @property
    def cost(self) -> float | None:
        return self.stats["cost_usd"]

    @property
    def cost_per_solved(self) -> float | None:
        return self.stats["cost_per_solved_usd"]

    @property
    def label(self) -> str:
        return f"{self.model} · {self.arm}"


@dataclass
class ReportData:
    sources: list[Source]
    rows: list[dict]  # every row, tagged with "_source" (index into sources) and "_sample_shift"
    summaries: dict[str, dict]  # tier -> summarize() output
    notes: list[str] = field(default_factory=list)

    @property
    def tiers(self) -> list[str]:
        return list(self.summaries)

    def series(self) -> list[Series]:
        out = []
        for tier, summary in self.summaries.items():
            for model, info in summary["models"].items():
                out += [Series(tier, model, arm, stats) for arm, stats in info["arms"].items()]
        return out

    def models(self, tier: str) -> dict[str, dict]:
        return self.summaries[tier]["models"]

    def infra_rows(self) -> list[dict]:
        return [r for r in self.rows if not is_scored(r)]


def _tier_of(row: dict, config: dict) -> str:
    return str(row.get("tier") or config.get("tier") or "public")


def _sample(row: dict) -> int:
    sample = row.get("sample")
    return sample if isinstance(sample, int) else 0


def _tier_sort_key(tier: str) -> tuple[int, str]:
    return (TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER), tier)


def load_report_data(paths: list[Path]) -> ReportData:
    """Read and merge results files (the same file named twice counts once). Raises OutputError for a bad file."""
    if not paths:
        raise OutputError("report needs at least one results file, e.g. bench-by-execution report results/*.json")
    seen: set[Path] = set()
    sources: list[Source] = []
    rows: list[dict] = []
    notes: list[str] = []
    stopped: dict[str, dict[str, str]] = defaultdict(dict)
    used: dict[tuple[str, str], set[tuple]] = defaultdict(set)  # (tier, model) -> units (task, arm, sample) so far
    for path in map(Path, paths):
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        document = load_results(path)
        config = document.get("config") or {}
        index = len(sources)
        doc_rows = document["rows"]
        tiers = sorted({_tier_of(r, config) for r in doc_rows}, key=_tier_sort_key)
        sources.append(Source(path, config, len(doc_rows), tiers))
        shifts: dict[tuple[str, str], int] = {}
        by_group: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for row in doc_rows:
            by_group[(_tier_of(row, config), str(row["model"]))].append(row)
        for (tier, model), group in by_group.items():
            units = {(r["task_id"], r["arm"], _sample(r)) for r in group}
            shift = 0
            if units & used[(tier, model)]:
                shift = 1 + max(u[2] for u in used[(tier, model)])
                notes.append(f"{model} ({tier}) is in more than one file: the samples of {path} are pooled with the "
                             f"earlier ones as samples {shift}+ (pairs stay within their own file)")  # fmt: skip
            shifts[(tier, model)] = shift
            used[(tier, model)] |= {(t, a, s + shift) for t, a, s in units}
        for row in doc_rows:
            tier, model = _tier_of(row, config), str(row["model"])
            shift = shifts[(tier, model)]
            rows.append({**row, "model": model, "tier": tier, "sample": _sample(row) + shift,
                         "_source": index, "_sample_shift": shift})  # fmt: skip
        for model, why in (config.get("stopped") or {}).items():
            for tier in tiers:
                stopped[tier][model] = why
    if not rows:
        names = ", ".join(str(s.path) for s in sources)
        raise OutputError(f"nothing to report: {names} {'holds' if len(sources) == 1 else 'hold'} no rows")
    by_tier: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_tier[row["tier"]].append(row)
    summaries = {tier: summarize(by_tier[tier], stopped.get(tier)) for tier in sorted(by_tier, key=_tier_sort_key)}
    return ReportData(sources=sources, rows=rows, summaries=summaries, notes=notes)


def _arm_order(arm: str) -> int:
    return ARMS.index(arm) if arm in ARMS else len(ARMS)


def ordered_rows(data: ReportData, tier: str) -> dict[str, list[dict]]:
    """Task/instance id -> its rows (model order of the summary, harnessed before bare, then sample), in task order."""
    model_order = {m: i for i, m in enumerate(data.models(tier))}
    tasks: dict[str, list[dict]] = {}
    for row in data.rows:
        if row["tier"] == tier:
            tasks.setdefault(str(row["task_id"]), []).append(row)
    for task_rows in tasks.values():
        task_rows.sort(key=lambda r: (model_order.get(r["model"], 1 << 30), _arm_order(r["arm"]), r["sample"]))
    return tasks


def terminal_text(data: ReportData) -> str:
    from .table import render_summary

    parts = []
    for tier, summary in data.summaries.items():
        parts.append(f"tier: {tier}\n{render_summary(summary)}")
    parts += [f"note: {n}" for n in data.notes]
    return "\n\n".join(parts)


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir} is a file; give a directory such as report/")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create --out {out_dir}: {exc.strerror or exc}") from None


def _write_text(path: Path, text: str) -> None:
    try:
        # errors="replace": a JSON string may hold a lone surrogate, which UTF-8 cannot encode
        path.write_text(text, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_report(data: ReportData, out_dir: Path) -> dict[str, Path]:
    """Write summary.md, cost_vs_solve.png and index.html into out_dir; returns their paths by name."""
    from .html import render_html
    from .markdown import render_markdown
    from .plot import plot_cost_vs_solve

    _prepare_out_dir(out_dir)
    paths = {name: out_dir / name for name in (SUMMARY_MD, PLOT_PNG, INDEX_HTML)}
    try:
        png = plot_cost_vs_solve(data.series())
    except ImportError as exc:
        raise OutputError(f"the report's plot needs matplotlib ({exc.name} is missing): "
                          'pip install "matplotlib>=3.7,<4"') from None
    try:
        paths[PLOT_PNG].write_bytes(png)
    except OSError as exc:
        raise OutputError(f"cannot write {paths[PLOT_PNG]}: {exc.strerror or exc}") from None
    _write_text(paths[SUMMARY_MD], render_markdown(data, plot_name=PLOT_PNG))
    _write_text(paths[INDEX_HTML], render_html(data, png))
    return paths


def run_report(paths: list[Path], out_dir: Path) -> int:
    """The `report` command: print the table per tier and the files written. OutputError for a bad input/output."""
    data = load_report_data(paths)
    written = write_report(data, Path(out_dir))
    print(terminal_text(data))
    print()
    for path in written.values():
        print(f"report: {path}")
    return 0
