"""The terminal summary: one line per model x arm, then each model's deltas and verdict."""
from __future__ import annotations

from ..run.stats import MIN_TASKS


def _ci(stat: dict | None, fmt: str) -> str:
    if not stat or stat.get("mean") is None:
        return "-"
    ci = stat.get("ci95")
    interval = f" [{ci[0]:{fmt}}, {ci[1]:{fmt}}]" if ci else ""
    return f"{stat['mean']:{fmt}}{interval}"


def _signed(stat: dict, fmt: str) -> str:
    if stat.get("mean") is None:
        return "-"
    lo, hi = stat["ci95"]
    return f"{stat['mean']:+{fmt}} [{lo:+{fmt}}, {hi:+{fmt}}]"


def _tokens(arm: dict) -> str:
    return f"{_num(arm['prompt_tokens'])}/{_num(arm['completion_tokens'])}"


def _num(value) -> str:
    return "?" if value is None else f"{int(value)}"


def _money(value) -> str:
    return "?" if value is None else f"${value:.4f}"


def _grid(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    render = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([render(header), render(["-" * w for w in widths]), *map(render, lines)])


def pass_at_k_cell(arm: dict) -> str:
    """pass@k for k > 1 (with one sample, pass@1 is the solve rate already shown), and over how many tasks when an
    infrastructure failure left some with fewer than k samples."""
    tasks = arm.get("pass_at_k_tasks") or {}
    cells = []
    for k, value in (arm.get("pass_at_k") or {}).items():
        if k != "pass@1":
            partial = f" ({tasks[k]}/{tasks['pass@1']} tasks)" if tasks.get(k, 0) < tasks.get("pass@1", 0) else ""
            cells.append(f"{k} {value:.2f}{partial}")
    return " ".join(cells) or "-"


STOP_REASON_SHOWN = 60  # characters of a stop's reason in the terminal table; the full one follows on stderr


def model_note(info: dict, brief: bool = False) -> str:
    """Why a model's verdict should be read with care; shared by the terminal table (`brief`: the stop's reason cut
    short, since stderr repeats it whole) and the Markdown report."""
    tasks = info["delta_exec"].get("tasks", 0)
    stopped = info.get("stopped") or ""
    if brief and len(stopped) > STOP_REASON_SHOWN:
        stopped = stopped[:STOP_REASON_SHOWN].rstrip() + "…"
    notes = [f"stopped: {stopped}" if stopped else "",
             _unscored(info),
             f"{info['truncated']} reply(s) cut at max_tokens" if info.get("truncated") else "",
             f"{info['unsandboxed']} row(s) ran outside the sandbox" if info.get("unsandboxed") else "",
             f"{tasks} task(s) paired; a verdict needs {MIN_TASKS}" if tasks < MIN_TASKS else ""]  # fmt: skip
    return "; ".join(n for n in notes if n)


def _unscored(info: dict) -> str:
    not_called = info.get("not_called", 0)
    failed = info["infra_failures"] - not_called
    parts = [f"{failed} infra failure(s)" if failed else "", f"{not_called} not called" if not_called else ""]
    return ", ".join(p for p in parts if p) + ", not scored" if info["infra_failures"] else ""


def render_summary(summary: dict) -> str:
    arm_lines, model_lines = [], []
    for model, info in summary["models"].items():
        for arm, stats in info["arms"].items():
            arm_lines.append([
                model, arm, f"{stats['scored']}/{stats['rows']}", _ci(stats["format"], ".1f"),
                _ci(stats["exec"], ".2f") + f" /{stats['max_exec']}", str(stats["solved"]), pass_at_k_cell(stats),
                _tokens(stats), _money(stats["cost_usd"]),
            ])  # fmt: skip
        note = model_note(info, brief=True)
        model_lines.append([model, _signed(info["delta_format"], ".1f"), _signed(info["delta_exec"], ".2f"),
                            info["verdict"], note])  # fmt: skip
    header = ["model", "arm", "scored", "format /100 [95% CI]", "exec [95% CI]", "solved", "pass@k", "tokens in/out",
              "cost"]  # fmt: skip
    if all(line[6] == "-" for line in arm_lines):  # one sample: no pass@k beyond the solve rate
        header, arm_lines = header[:6] + header[7:], [line[:6] + line[7:] for line in arm_lines]
    arms = _grid(header, arm_lines)
    deltas = _grid(["model", "Δformat (h-b)", "Δexec (h-b)", "verdict", "note"], model_lines)
    return f"{arms}\n\n{deltas}"
