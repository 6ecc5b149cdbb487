"""report/index.html: one self-contained page — the tables, the plot inlined as a data URI, and a drill-down into
every row (response, extracted files, format checks, executor result, SWE-bench grade and patch).

Everything that comes from a results file is escaped: model replies are hostile, and so may be a model name or a task
id. A Content-Security-Policy forbids scripts and every outside resource as a second line of defence; the page needs
no JavaScript (<details> elements do the folding).
"""
from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import TYPE_CHECKING, Any, Iterable

from .markdown import DELTA_HEADER, HOW_TO_READ, SERIES_HEADER, delta_cells, infra_reason, money, series_cells

if TYPE_CHECKING:
    from .build import ReportData

PLOT_ALT = "cost per solved task (log scale) vs solve rate, with 95% Wilson intervals and the Pareto front"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1400px;
       padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; } h4 { margin: .8em 0 .3em; font-size: .95em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #d5d5d5; padding: .25em .55em; text-align: left; vertical-align: top; }
th { background: #f3f3f5; } td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td, table.deltas td { white-space: nowrap; } table.deltas td:last-child { white-space: normal; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f9; border: 1px solid #e3e3e8; padding: .6em;
      max-height: 36em; overflow: auto; font-size: 12.5px; margin: .3em 0; }
details { margin: .25em 0; } summary { cursor: pointer; }
details.task { border: 1px solid #ddd; border-radius: 6px; padding: .3em .6em; margin: .5em 0; }
details.task > summary { font-weight: 600; }
details.row { border-left: 3px solid #ccc; padding-left: .6em; margin: .4em 0 .4em .4em; }
.badge { display: inline-block; min-width: 3.2em; text-align: center; border-radius: 4px; padding: 0 .4em;
         font-size: 12px; font-weight: 600; color: #fff; }
.badge.pass { background: #1e8e3e; } .badge.partial { background: #c77700; } .badge.fail { background: #c5221f; }
.badge.infra { background: #777; }
details.row.pass { border-left-color: #1e8e3e; } details.row.partial { border-left-color: #c77700; }
details.row.fail { border-left-color: #c5221f; } details.row.infra { border-left-color: #999; }
.ok { color: #1e8e3e; font-weight: 600; } .no { color: #c5221f; font-weight: 600; }
.verdict { font-weight: 700; } .HARNESS_HELPS { color: #1e8e3e; } .HARNESS_REGRESSES { color: #c5221f; }
.FORMAT_ONLY { color: #c77700; } .NO_EFFECT { color: #555; } .INSUFFICIENT_DATA { color: #888; }
.muted { color: #666; } img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .3em 0; }
dl.kv dt { color: #555; } dl.kv dd { margin: 0; }
ul.chips { list-style: none; padding: 0; margin: .2em 0; } ul.chips li { display: inline-block; margin: 0 1em .2em 0; }
"""


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _anchor(*parts: str) -> str:
    return "t-" + hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:12]


def _table(header: Iterable[str], lines: Iterable[Iterable[Any]], cls: str = "", raw: bool = False) -> str:
    """A table; cells are escaped unless raw (cells then are HTML built here from escaped parts)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in line) + "</tr>" for line in lines)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _kv(pairs: Iterable[tuple[str, Any]]) -> str:
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs if v not in (None, "", [], {}))
    return f'<dl class="kv">{items}</dl>' if items else ""


def _pre(text: Any, summary: str | None = None, open_: bool = False) -> str:
    block = f"<pre>{esc(text)}</pre>"
    if summary is None:
        return block
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{block}</details>"


def score_class(row: dict) -> str:
    executor = row.get("executor") or {}
    score, top = executor.get("score"), executor.get("max_score")
    if score is None:
        return "infra"
    if top and score >= top:
        return "pass"
    return "partial" if score > 0 else "fail"


def _badge(row: dict) -> str:
    executor = row.get("executor") or {}
    score = executor.get("score")
    text = row["outcome"] if score is None else f"{score}/{executor.get('max_score', '?')}"
    return f'<span class="badge {score_class(row)}">{esc(text)}</span>'


def _verdicts(data: "ReportData") -> str:
    items = []
    for tier in data.tiers:
        for model, info in data.models(tier).items():
            _, _, d_format, d_exec, paired, verdict, note = delta_cells(tier, model, info)
            items.append(f'<li><b>{esc(model)}</b> ({esc(tier)}): <span class="verdict {esc(verdict)}">{esc(verdict)}'
                         f"</span> — Δexec {esc(d_exec)}, Δformat {esc(d_format)} ({esc(paired)})"
                         + (f' <span class="muted">{esc(note)}</span>' if note else "") + "</li>")  # fmt: skip
    return f"<ul>{''.join(items)}</ul>"


def _deltas(data: "ReportData") -> str:
    lines = []
    for tier in data.tiers:
        for model, info in data.models(tier).items():
            cells = [esc(c) for c in delta_cells(tier, model, info)]
            cells[5] = f'<span class="verdict {cells[5]}">{cells[5]}</span>'
            lines.append(cells)
    return _table(DELTA_HEADER, lines, "deltas", raw=True)


def _infra(data: "ReportData") -> str:
    rows = data.infra_rows()
    if not rows:
        return "<p>None: every row was scored.</p>"
    lines = [[r["tier"], r["model"], r["task_id"], r["arm"], r["sample"], r["outcome"],
              (r.get("executor") or {}).get("status", "not run"), infra_reason(r)] for r in rows]  # fmt: skip
    return (f"<p>{len(rows)} row(s) not scored: infrastructure failures are never counted against a model.</p>"
            + _table(["tier", "model", "task", "arm", "sample", "outcome", "exec status", "reason"], lines, "infra"))


def _seconds(value: Any) -> str | None:
    return f"{value:.2f} s" if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _names(values: Any) -> str:
    values = values or []
    return ", ".join(map(str, values)) if values else "none"


def _call(row: dict, data: "ReportData") -> str:
    response = row.get("response") or {}
    usage = response.get("usage") or {}
    tokens = None
    if usage:
        tokens = f"{usage.get('prompt_tokens', '?')} in / {usage.get('completion_tokens', '?')} out"
        if usage.get("reasoning_tokens"):
            tokens += f" ({usage['reasoning_tokens']} reasoning)"
    source = data.sources[row["_source"]].path if "_source" in row else None
    sample = str(row["sample"]) + (f" (sample {row['sample'] - row['_sample_shift']} in its file)"
                                   if row.get("_sample_shift") else "")  # fmt: skip
    return _kv([
        ("outcome", row["outcome"]), ("finish_reason", response.get("finish_reason")), ("tokens", tokens or "unknown"),
        ("cost", f"{money(response.get('cost_usd'))} ({response.get('cost_source') or 'no source'})"),
        ("latency", _seconds(response.get("latency_s"))),
        ("attempts", response.get("attempts")), ("error", response.get("error")), ("sample", sample),
        ("prompt sha256", row.get("prompt_sha256")), ("results file", source),
    ])  # fmt: skip


def _executor(row: dict) -> str:
    executor = row.get("executor")
    if not executor:
        return "<h4>Executor</h4><p class=\"muted\">not run</p>"
    extraction = executor.get("extraction") or {}
    process = executor.get("process") or {}
    isolation = process.get("isolation")
    layer = isolation.get("layer") if isinstance(isolation, dict) else isolation
    parts = ["<h4>Executor</h4>", _kv([
        ("score", f"{executor.get('score')}/{executor.get('max_score')}"), ("status", executor.get("status")),
        ("reason", executor.get("reason")), ("extraction", extraction.get("method")),
        ("extraction detail", extraction.get("detail")),
        ("files used", _names(extraction.get("files") or extraction.get("files_written"))),
        ("refused paths", _names(extraction.get("refused")) if extraction.get("refused") else None),
        ("return code", process.get("returncode", process.get("exit_code"))),
        ("timed out", process.get("timed_out")), ("output limited", process.get("output_limited")),
        ("duration", _seconds(executor.get("duration_s"))),
        ("sandbox", layer or process.get("sandbox")), ("infra error", process.get("infra_error")),
        ("discarded test edits", _names(process.get("discarded_test_edits"))
         if process.get("discarded_test_edits") else None),
    ])]  # fmt: skip
    grade = executor.get("grade")
    if isinstance(grade, dict):
        parts.append(_grade(grade))
    if process.get("log_tail"):
        parts.append(_pre(process["log_tail"], "test log (tail)"))
    return "".join(parts)


def _grade(grade: dict) -> str:
    def tests(name: str, record: dict | None, fraction: float | None) -> str:
        record = record or {}
        ok, bad = record.get("success") or [], record.get("failure") or []
        frac = f" ({fraction:.0%})" if isinstance(fraction, (int, float)) else ""
        head = f"{name}: {len(ok)} pass, {len(bad)} fail{frac}"
        items = "".join(f'<li><span class="no">FAIL</span> {esc(t)}</li>' for t in bad)
        items += "".join(f'<li><span class="ok">PASS</span> {esc(t)}</li>' for t in ok)
        return f"<details{' open' if bad else ''}><summary>{esc(head)}</summary><ul>{items}</ul></details>"

    return ("<h4>SWE-bench grade</h4>" + _kv([
        ("resolved", grade.get("resolved")), ("status", grade.get("status")), ("reason", grade.get("reason")),
        ("infra hint", grade.get("infra_hint")), ("tests parsed", grade.get("tests_parsed")),
        ("status counts", ", ".join(f"{k} {v}" for k, v in (grade.get("status_counts") or {}).items())),
    ]) + tests("FAIL_TO_PASS", grade.get("fail_to_pass"), grade.get("f2p_fraction"))
       + tests("PASS_TO_PASS", grade.get("pass_to_pass"), grade.get("p2p_fraction")))  # fmt: skip


def _format(row: dict) -> str:
    shape = row.get("format")
    if not shape:
        return ""
    checks = shape.get("checks") or []
    verdict = {True: '<span class="ok">pass</span>', False: '<span class="no">fail</span>'}
    lines = [[esc(c.get("name")), esc(c.get("weight")), verdict[bool(c.get("passed"))], esc(c.get("detail"))]
             for c in checks]  # fmt: skip
    return (f"<h4>Format checks: {esc(shape.get('score'))}/100</h4>"
            + (_table(["check", "weight", "result", "detail"], lines, "checks", raw=True) if lines else "")
            + (f'<p class="muted">{esc(shape.get("reason"))}</p>' if shape.get("reason") else ""))  # fmt: skip


def _parse(row: dict) -> str:
    parse = row.get("parse")
    if not parse:
        return ""
    files = parse.get("files") or []
    lines = [[f.get("path"), f.get("bytes"), f.get("lines"), (f.get("sha256") or "")[:12]] for f in files]
    defects = parse.get("defects") or []
    body = (_table(["path", "bytes", "lines", "sha256"], lines, "files") if lines
            else '<p class="muted">no FILE blocks</p>')  # fmt: skip
    return ("<h4>Extracted files (FILE blocks)</h4>" + body
            + _kv([("RUN line", parse.get("run_command")), ("blocks", len(parse.get("blocks") or [])),
                   ("defects", "; ".join(map(str, defects)) if defects else None)]))  # fmt: skip


def _row(row: dict, data: "ReportData") -> str:
    executor = row.get("executor") or {}
    shape = row.get("format") or {}
    fmt = shape.get("score")
    title = (f"{row['model']} · {row['arm']} · sample {row['sample']} — {executor.get('status') or row['outcome']}"
             + (f" · format {fmt:g}" if isinstance(fmt, (int, float)) else "") + f" · {row['outcome']}")  # fmt: skip
    reason = executor.get("reason") or (row.get("response") or {}).get("error")
    response = (row.get("response") or {}).get("text")
    parts = [
        f'<details class="row {score_class(row)}"><summary>{_badge(row)} {esc(title)}</summary>',
        f"<p><b>Reason:</b> {esc(reason)}</p>" if reason else "",
        _call(row, data), _executor(row), _format(row), _parse(row),
        _pre(row["model_patch"], "model_patch") if row.get("model_patch") else "",
        _pre(response, f"response ({len(response)} characters)", open_=True) if response
        else '<p class="muted">no response text</p>',
        "</details>",
    ]  # fmt: skip
    return "".join(parts)


def _tasks(data: "ReportData") -> str:
    from .build import ordered_rows

    out = []
    for tier in data.tiers:
        tasks = ordered_rows(data, tier)
        index = " ".join(f'<a href="#{_anchor(tier, t)}">{esc(t)}</a>' for t in tasks)
        out.append(f"<h3>tier: {esc(tier)} — {len(tasks)} task(s)</h3><p>{index}</p>")
        for task_id, rows in tasks.items():
            solved = sum(1 for r in rows if score_class(r) == "pass")
            chips = "".join(f"<li>{_badge(r)} {esc(r['model'])} · {esc(r['arm'])}"
                            + (f" · s{esc(r['sample'])}" if r["sample"] else "") + "</li>" for r in rows)  # fmt: skip
            out.append(f'<details class="task" id="{_anchor(tier, task_id)}"><summary>{esc(task_id)} — '
                       f"{solved}/{len(rows)} rows solved</summary><ul class=\"chips\">{chips}</ul>"
                       + "".join(_row(r, data) for r in rows) + "</details>")  # fmt: skip
    return "".join(out)


def render_html(data: "ReportData", png: bytes) -> str:
    series_lines = [series_cells(s) for s in data.series()]
    image = base64.b64encode(png).decode("ascii")
    sources = "".join(f"<li>{esc(s.describe())}</li>" for s in data.sources)
    notes = "".join(f"<li>{esc(n)}</li>" for n in data.notes)
    plain = HOW_TO_READ.replace("**", "").replace("*", "").replace("`", "").removeprefix("- ")
    how = "".join(f"<li>{esc(' '.join(item.split()))}</li>" for item in plain.split("\n- "))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bench-by-execution report</title>
<style>{CSS}</style>
</head>
<body>
<h1>bench-by-execution report</h1>
<section id="verdicts"><h2>Verdicts</h2>{_verdicts(data)}</section>
<section id="summary"><h2>Per model × arm × tier</h2>{_table(SERIES_HEADER, series_lines, "summary")}
<h3>Harnessed − bare</h3>{_deltas(data)}</section>
<section id="plot"><h2>Cost per solved task vs solve rate</h2>
<img class="plot" id="cost-vs-solve" alt="{esc(PLOT_ALT)}" src="data:image/png;base64,{image}">
</section>
<section id="infra"><h2>Infrastructure failures</h2>{_infra(data)}</section>
<section id="tasks"><h2>Per task: every row</h2>
<p class="muted">Open a task, then a row: the reply as the model sent it, the files taken from it, the format checks and
what the executor saw.</p>{_tasks(data)}</section>
<section id="sources"><h2>Built from</h2><ul>{sources}</ul>{f"<p>Notes:</p><ul>{notes}</ul>" if notes else ""}</section>
<section id="how"><h2>How to read this</h2><ul>{how}</ul></section>
</body>
</html>
"""
