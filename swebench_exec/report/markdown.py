"""report/summary.md, and the cell texts the HTML page shares with it (one formatting of every number)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..models.outcomes import INFRA_OUTCOMES
from ..run.stats import MIN_TASKS
from .table import _ci, _signed, _tokens, model_note, pass_at_k_cell

if TYPE_CHECKING:
    from .build import ReportData, Series

SERIES_HEADER = ["tier", "model", "arm", "scored", "format /100 [95% CI]", "exec [95% CI]", "solved",
                 "solve rate [95% Wilson]", "pass@k", "tokens in/out", "cost", "cost / solved"]  # fmt: skip
DELTA_HEADER = ["tier", "model", "Δformat (h−b) [95% CI]", "Δexec (h−b) [95% CI]", "paired", "verdict", "note"]
INFRA_LIST_MAX = 50

HOW_TO_READ_TEMPLATE = """\
- One line per model × arm × tier, recomputed from the rows of the files above. **harnessed**: the prompt wrapped in
  the EXECUTION CONTRACT (whole files in `FILE:` blocks and a `RUN:` line); **bare**: the task alone.
- **format** (0–100) scores the reply's *shape* only; **exec** runs the extracted program in a sandbox (public tier:
  0–3 cases passing; SWE-bench: 1 when every FAIL_TO_PASS and PASS_TO_PASS test passes). **solved** counts scored rows
  with the full exec score; the **solve rate** is solved / scored with a 95% Wilson interval. **scored** excludes
  infrastructure failures (rate limits, provider and sandbox errors…), which are never counted against a model.
- **cost** is what the series' calls cost (provider-reported, else tokens × price; `$0` for local servers and `gold`,
  `?` when unknown); **cost / solved** divides it by the solved count (`n/a` when nothing was solved).
- **Verdict**, per model and tier, on 95% paired-bootstrap intervals over task × sample units scored on both arms,
  resampling tasks with all their samples (2,000 resamples, seed 0): `INSUFFICIENT_DATA` below {min_tasks} paired
  tasks, however many samples; else `HARNESS_HELPS` / `HARNESS_REGRESSES` when Δexec's interval lies wholly above /
  below zero; otherwise `FORMAT_ONLY` when Δformat's interval excludes zero — the *Format Scorer Trap*: the shape
  moved, the working code did not; otherwise `NO_EFFECT`. An interval touching zero is not a difference: five tasks
  rarely give a confident verdict, and one task moving is not enough.
- The plot puts cost per solved task (log scale) against the solve rate; the dashed staircase is the Pareto front
  (no other point is both cheaper and better). A log scale cannot show $0 or an unknown cost: those points sit in the
  shaded strip on the left, and series that solved nothing in the strip on the right.
"""
HOW_TO_READ = HOW_TO_READ_TEMPLATE.format(min_tasks=MIN_TASKS)


def money(value: float | None) -> str:
    if value is None:
        return "?"
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 1e-6:  # two significant digits, fixed notation
        return f"${value:.{max(2, 1 - math.floor(math.log10(value)))}f}"
    return f"${value:.1e}"


def rate(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0%} [{ci[0]:.0%}, {ci[1]:.0%}]"


def series_cells(s: "Series") -> list[str]:
    st = s.stats
    if s.cost_per_solved is not None:
        per_solved = money(s.cost_per_solved)
    elif s.scored and not s.solved:
        per_solved = "n/a (none solved)"
    else:
        per_solved = "?"
    return [
        s.tier, s.model, s.arm, f"{st['scored']}/{st['rows']}", _ci(st["format"], ".1f"),
        _ci(st["exec"], ".2f") + f" /{st['max_exec']}", f"{s.solved}/{s.scored}", rate(s.solve_rate, s.solve_ci),
        pass_at_k_cell(st), _tokens(st), money(s.cost), per_solved,
    ]  # fmt: skip


def delta_cells(tier: str, model: str, info: dict) -> list[str]:
    return [tier, model, _signed(info["delta_format"], ".1f"), _signed(info["delta_exec"], ".2f"),
            paired_cell(info["delta_exec"]), info["verdict"], model_note(info)]  # fmt: skip


def paired_cell(delta: dict) -> str:
    return f"{delta.get('pairs', 0)} pairs, {delta.get('tasks', 0)} tasks"


def one_line(value, limit: int = 160) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def infra_reason(row: dict) -> str:
    response, executor = row.get("response") or {}, row.get("executor") or {}
    if row["outcome"] in INFRA_OUTCOMES or row.get("error"):
        return one_line(response.get("error") or row.get("error") or row["outcome"])
    return one_line(executor.get("reason") or executor.get("status") or "not scored")


def _md_cell(value) -> str:
    return one_line(value, 400).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def md_table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(_md_cell, line)) + " |" for line in lines]
    return "\n".join(out)


def _infra_section(data: "ReportData") -> str:
    rows = data.infra_rows()
    stopped = [(tier, model, info["stopped"]) for tier in data.tiers
               for model, info in data.models(tier).items() if info.get("stopped")]  # fmt: skip
    if not rows and not stopped:
        return "None: every row was scored."
    parts = []
    if stopped:
        parts.append("\n".join(f"- `{_md_cell(m)}` ({t}) stopped: {_md_cell(why)}" for t, m, why in stopped))
    if rows:
        lines = [[r["tier"], r["model"], r["task_id"], r["arm"], str(r["sample"]), r["outcome"],
                  (r.get("executor") or {}).get("status", "not run"), infra_reason(r)]
                 for r in rows[:INFRA_LIST_MAX]]  # fmt: skip
        header = ["tier", "model", "task", "arm", "sample", "outcome", "exec status", "reason"]
        parts.append(f"{len(rows)} row(s) not scored (never counted against the model; `--resume` re-runs them):\n\n"
                     + md_table(header, lines))  # fmt: skip
        if len(rows) > INFRA_LIST_MAX:
            parts.append(f"… and {len(rows) - INFRA_LIST_MAX} more (see index.html).")
    return "\n\n".join(parts)


def render_markdown(data: "ReportData", plot_name: str = "cost_vs_solve.png") -> str:
    series_lines = [series_cells(s) for s in data.series()]
    delta_lines = [delta_cells(tier, model, info) for tier in data.tiers for model, info in data.models(tier).items()]
    verdicts = "\n".join(f"- **{_md_cell(model)}** ({tier}): **{info['verdict']}** — Δexec "
                         f"{_signed(info['delta_exec'], '.2f')}, Δformat {_signed(info['delta_format'], '.1f')}"
                         for tier in data.tiers for model, info in data.models(tier).items())  # fmt: skip
    sources = "\n".join(f"- {_md_cell(s.describe())}" for s in data.sources)
    notes = "\n".join(f"- {_md_cell(n)}" for n in data.notes)
    sections = [
        "# bench-by-execution report",
        f"## Verdicts\n\n{verdicts}",
        f"## Per model × arm × tier\n\n{md_table(SERIES_HEADER, series_lines)}",
        f"## Harnessed − bare\n\n{md_table(DELTA_HEADER, delta_lines)}",
        f"## Cost per solved task vs solve rate\n\n![cost per solved task vs solve rate]({plot_name})",
        f"## Infrastructure failures\n\n{_infra_section(data)}",
        f"## Built from\n\n{sources}" + (f"\n\nNotes:\n\n{notes}" if notes else ""),
        f"## How to read this\n\n{HOW_TO_READ}",
    ]
    return "\n\n".join(sections).rstrip() + "\n"
