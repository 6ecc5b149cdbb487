"""`report`: summary.md, cost_vs_solve.png and a self-contained index.html from one or more results files.

The results files are made by the real pipeline: `demo --model gold`, and `compare` against the scripted HTTP server
with two models (one whose harnessed replies carry a stray `python` line and whose bare replies end in hostile HTML,
one correct and dearer) plus one that is out of credits (infrastructure rows, never scored).
"""
from __future__ import annotations

import base64
import copy
import json
import re
import struct
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.contract import load_contract
from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.report.build import load_report_data, run_report
from swebench_exec.report.markdown import money
from swebench_exec.report.plot import Point, pareto_front, plot_cost_vs_solve, to_points
from swebench_exec.run.stats import wilson_interval
from swebench_exec.run.store import OutputError
from swebench_exec.tasks import PUBLIC_TASKS

HOSTILE = "\n</pre></details><script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">\n"
HOSTILE_ESCAPED = "&lt;/pre&gt;&lt;/details&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;"
SCRIPTED_TASKS = [t["id"] for t in PUBLIC_TASKS]  # five pairs: the fewest that can give a verdict
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _task_for(request_json: dict) -> tuple[dict, bool]:
    prompt = request_json["messages"][-1]["content"]
    task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
    return task, prompt.startswith(load_contract().text.rstrip())


def scripted_replies(request_json: dict) -> Reply:
    model = request_json["model"]
    if model == "broke-model":
        return Reply(status=402, body={"error": {"message": "Insufficient credits", "code": 402}})
    task, harnessed = _task_for(request_json)
    if harnessed:
        text = harnessed_reply(task["reference"], task["run"])
        if model == "cheap-stray":  # the language on its own line inside the block: a NameError when run
            text = text.replace("```python\n", "```\npython\n")
    else:
        text = bare_reply(task["reference"], task["run"]) + (HOSTILE if model == "cheap-stray" else "")
    return chat_reply(text, cost=0.0004 if model == "cheap-stray" else 0.003)


def make_gold_results(directory: Path) -> Path:
    out = directory / "gold.json"
    assert main(["demo", "--model", "gold", "--out", str(out), "--quiet"]) == 0
    return out


def make_scripted_results(directory: Path) -> Path:
    out = directory / "scripted.json"
    with ScriptedServer(reply_for=scripted_replies) as server:
        code = main(["compare", "--models", "cheap-stray,pricey-good,broke-model", "--base-url", server.url,
                     "--out", str(out), "--quiet", "--concurrency", "1"])  # fmt: skip
    assert code == 3  # broke-model ran out of credits; the others went on
    return out


@pytest.fixture(scope="module")
def gold_json(tmp_path_factory) -> Path:
    return make_gold_results(tmp_path_factory.mktemp("gold"))


@pytest.fixture(scope="module")
def scripted_json(tmp_path_factory) -> Path:
    return make_scripted_results(tmp_path_factory.mktemp("scripted"))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <pre> elements, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.pre_text: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_pre += tag == "pre"

    def handle_endtag(self, tag):
        self._in_pre -= tag == "pre" and self._in_pre > 0

    def handle_data(self, data):
        if self._in_pre:
            self.pre_text.append(data)


def parse_html(text: str) -> Tags:
    parser = Tags()
    parser.feed(text)
    parser.close()
    return parser


def report(tmp_path: Path, *paths: Path, capsys=None) -> tuple[Path, str]:
    out = tmp_path / "report"
    assert run_report(list(paths), out) == 0
    stdout = capsys.readouterr().out if capsys else ""
    return out, stdout


# ---------------------------------------------------------------- statistics and plot pieces


def test_wilson_interval_matches_known_values():
    assert wilson_interval(0, 0) is None
    lo, hi = wilson_interval(5, 5)
    assert hi == 1.0 and lo == pytest.approx(0.5655, abs=1e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    lo, hi = wilson_interval(3, 7)
    assert (1 - hi, 1 - lo) == pytest.approx(wilson_interval(4, 7))  # symmetric in success / failure


def _point(model, rate, x, zone="scale"):
    return Point("public", model, "harnessed", rate, (0.0, 1.0), x, zone)


def test_pareto_front_keeps_only_points_nothing_beats_on_both_axes():
    points = [_point("cheap", 0.4, 0.001), _point("mid", 0.7, 0.01), _point("dominated", 0.6, 0.02),
              _point("best", 0.9, 0.1), _point("tie_dearer", 0.4, 0.005), _point("free", 0.2, 0.0, "free"),
              _point("unknown", 1.0, None, "unknown"), _point("nothing", 0.0, None, "unsolved")]  # fmt: skip
    assert [p.model for p in pareto_front(points)] == ["free", "cheap", "mid", "best"]


class _S:
    def __init__(self, model, scored, solved, cost):
        self.tier, self.model, self.arm = "public", model, "bare"
        self.scored, self.solved, self.cost = scored, solved, cost
        self.cost_per_solved = cost / solved if cost is not None and solved else None
        self.solve_rate = solved / scored if scored else None
        self.solve_ci = wilson_interval(solved, scored)


def test_points_that_a_log_scale_cannot_show_are_placed_visibly_not_dropped():
    series = [_S("paid", 5, 4, 0.02), _S("free", 5, 5, 0.0), _S("unpriced", 5, 3, None), _S("zero", 5, 0, 0.01),
              _S("no_rows", 0, 0, None)]  # fmt: skip
    points, skipped = to_points(series)
    assert {p.model: p.zone for p in points} == {"paid": "scale", "free": "free", "unpriced": "unknown",
                                                  "zero": "unsolved"}  # fmt: skip
    assert skipped == {"public": ["no_rows · bare"]}
    png = plot_cost_vs_solve(series)
    width, height = png_size(png)
    assert 600 <= width <= 3000 and 400 <= height <= 2000


def test_money_keeps_two_significant_digits_and_says_unknown():
    assert [money(v) for v in (None, 0, 0.00015, 0.0012, 0.123, 12.5)] == ["?", "$0", "$0.00015", "$0.0012", "$0.12",
                                                                           "$12.50"]  # fmt: skip


# ---------------------------------------------------------------- the three files


def test_gold_report_writes_table_plot_and_page(gold_json, tmp_path, capsys):
    out, stdout = report(tmp_path, gold_json, capsys=capsys)
    assert "tier: public" in stdout and "FORMAT_ONLY" in stdout and "gold   harnessed" in stdout
    for name in ("summary.md", "cost_vs_solve.png", "index.html"):
        assert f"report: {out / name}" in stdout
        assert (out / name).stat().st_size > 0

    md = (out / "summary.md").read_text()
    assert "**gold** (public): **FORMAT_ONLY**" in md
    assert ("| public | gold | harnessed | 5/5 | 100.0 [100.0, 100.0] | 3.00 [3.00, 3.00] /3 | 5/5 "
            "| 100% [57%, 100%] | - | ?/? | $0 | $0 |") in md
    assert "| public | gold | bare | 5/5 | 0.0 [0.0, 0.0] |" in md
    assert str(gold_json) in md and "## How to read this" in md and "FORMAT_ONLY" in md.split("## How to read")[1]
    assert "None: every row was scored." in md

    png = (out / "cost_vs_solve.png").read_bytes()
    width, height = png_size(png)
    assert 600 <= width <= 3000 and 400 <= height <= 2000 and len(png) > 20_000

    page = (out / "index.html").read_text()
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert '<table class="summary">' in page and "<td>FORMAT_ONLY</td>" not in page  # verdicts are styled spans
    for task in PUBLIC_TASKS:
        assert f">{task['id']} — " in page
    assert page.count('<details class="row') == 10


def test_scripted_report_has_verdicts_costs_and_infrastructure_failures(scripted_json, tmp_path, capsys):
    out, stdout = report(tmp_path, scripted_json, capsys=capsys)
    assert "HARNESS_REGRESSES" in stdout and "FORMAT_ONLY" in stdout
    md = (out / "summary.md").read_text()
    assert "**cheap-stray** (public): **HARNESS_REGRESSES**" in md
    assert "**pricey-good** (public): **FORMAT_ONLY**" in md
    # cost per solved: 5 calls at $0.0004 over 5 solved; none solved on the harnessed arm
    assert re.search(r"\| public \| cheap-stray \| bare \| 5/5 \|.*\| 5/5 \| 100% \[57%, 100%\] \|.*"
                     r"\| \$0\.0020 \| \$0\.00040 \|", md)
    assert re.search(r"\| public \| cheap-stray \| harnessed \|.*\| 0/5 \| 0% \[0%, 43%\] \|.*"
                     r"\| n/a \(none solved\) \|", md)
    assert re.search(r"\| public \| pricey-good \| harnessed \|.*\| \$0\.015 \| \$0\.0030 \|", md)
    infra = md.split("## Infrastructure failures")[1].split("## Built from")[0]
    assert "`broke-model` (public) stopped: insufficient_credits" in infra
    assert "| public | broke-model | csv_totals | harnessed | 0 | insufficient_credits |" in infra
    assert "cheap-stray" not in infra

    page = (out / "index.html").read_text()
    for task in SCRIPTED_TASKS:
        assert f">{task} — " in page
    assert page.count('<details class="row') == 30
    assert "NameError" in page  # the stray `python` line, as the executor saw it
    assert "info_string_clean" in page and "stray language line" in page


def test_hostile_reply_is_shown_as_text_and_cannot_break_out(scripted_json, tmp_path):
    out, _ = report(tmp_path, scripted_json)
    page = (out / "index.html").read_text()
    assert "<script>window.__pwned" in scripted_json.read_text()  # the reply really carried it
    assert "<script" not in page.lower()
    assert "onerror=" not in page.replace("onerror=&quot;", "")
    assert HOSTILE_ESCAPED in page
    tags = parse_html(page)
    assert not [t for t, _ in tags.tags if t in ("script", "iframe", "object", "embed", "link", "base", "form")]
    assert [a["src"][:22] for t, a in tags.tags if t == "img"] == ["data:image/png;base64,"]
    assert not [a for _, a in tags.tags for k in a if k.startswith("on")]
    assert sum(HOSTILE.strip() in text for text in tags.pre_text) == len(SCRIPTED_TASKS)  # verbatim, inside <pre>


def test_page_is_self_contained(gold_json, tmp_path):
    out, _ = report(tmp_path, gold_json)
    page = (out / "index.html").read_text()
    tags = parse_html(page)
    for tag, attrs in tags.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith(("data:", "#")), (tag, key, value)
    assert "@import" not in page and "url(" not in page
    csp = next(a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "img-src data:" in csp


def test_hostile_model_name_task_id_and_check_detail_are_escaped(gold_json, tmp_path):
    document = json.loads(gold_json.read_text())
    for row in document["rows"]:
        row["model"] = "<b onmouseover=x>evil|model</b>"
        if row["task_id"] == "grid_path":
            row["task_id"] = '"><script>alert(1)</script>'
        row["format"]["checks"][0]["detail"] = "<img src=x onerror=alert(2)>"
        row["response"]["text"] += "\ud800 lone surrogate"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    out, _ = report(tmp_path, path)
    page = (out / "index.html").read_text()
    assert "<script" not in page and "<b onmouseover" not in page and "<img src=x" not in page
    assert "&lt;b onmouseover=x&gt;evil|model&lt;/b&gt;" in page
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = (out / "summary.md").read_text()
    assert "<b onmouseover" not in md and "evil\\|model" in md


# ---------------------------------------------------------------- several files


def test_two_results_files_merge(gold_json, scripted_json, tmp_path, capsys):
    out, stdout = report(tmp_path, gold_json, scripted_json, gold_json, capsys=capsys)  # the same file twice: once
    data = load_report_data([gold_json, scripted_json])
    assert list(data.summaries) == ["public"]
    assert set(data.models("public")) == {"gold", "cheap-stray", "pricey-good", "broke-model"}
    assert data.models("public")["gold"]["arms"]["harnessed"]["rows"] == 5
    md = (out / "summary.md").read_text()
    assert str(gold_json) in md and str(scripted_json) in md
    assert "**gold** (public): **FORMAT_ONLY**" in md and "**cheap-stray** (public): **HARNESS_REGRESSES**" in md
    assert "pooled" not in md
    page = (out / "index.html").read_text()
    assert page.count('<details class="row') == 10 + 30
    assert stdout.count("tier: public") == 1


def test_the_same_model_in_two_files_pools_samples_and_pairs_within_a_file(gold_json, tmp_path):
    again = tmp_path / "gold-again.json"
    again.write_text(gold_json.read_text())
    out, _ = report(tmp_path, gold_json, again)
    data = load_report_data([gold_json, again])
    gold = data.models("public")["gold"]
    assert gold["arms"]["harnessed"]["rows"] == 10 and gold["delta_exec"]["pairs"] == 10
    assert sorted({r["sample"] for r in data.rows}) == [0, 1]
    assert "pooled" in (out / "summary.md").read_text()


def _as_swebench(document: dict) -> dict:
    """The gold rows dressed as SWE-bench rows (score 0/1, a grade and a patch), as the swebench tier writes them."""
    document = copy.deepcopy(document)
    document["config"]["tier"] = "swebench"
    document["config"]["command"] = "swebench"
    for row in document["rows"]:
        row["tier"] = "swebench"
        row["task_id"] = f"org__{row['task_id']}-1"
        passed = row["arm"] == "harnessed"
        row["executor"].update(score=int(passed), max_score=1, status="resolved" if passed else "unresolved")
        row["executor"]["grade"] = {
            "resolved": passed, "status": "RESOLVED_FULL" if passed else "RESOLVED_NO",
            "fail_to_pass": {"success": ["tests/test_x.py::test_f2p"] if passed else [],
                             "failure": [] if passed else ["tests/test_x.py::test_f2p"]},
            "pass_to_pass": {"success": ["tests/test_x.py::test_p2p"], "failure": []},
            "f2p_fraction": float(passed), "p2p_fraction": 1.0, "tests_parsed": 2, "status_counts": {"PASSED": 2},
        }  # fmt: skip
        row["model_patch"] = "diff --git a/x.py b/x.py\n+<fixed & patched>\n"
    return document


def test_tiers_are_summarised_and_plotted_apart(gold_json, tmp_path, capsys):
    swe = tmp_path / "swe.json"
    swe.write_text(json.dumps(_as_swebench(json.loads(gold_json.read_text()))))
    out, stdout = report(tmp_path, gold_json, swe, capsys=capsys)
    data = load_report_data([gold_json, swe])
    assert list(data.summaries) == ["public", "swebench"]
    assert data.models("swebench")["gold"]["verdict"] == "HARNESS_HELPS"
    assert data.models("public")["gold"]["verdict"] == "FORMAT_ONLY"
    assert "tier: public" in stdout and "tier: swebench" in stdout
    md = (out / "summary.md").read_text()
    assert "**gold** (swebench): **HARNESS_HELPS**" in md and "**gold** (public): **FORMAT_ONLY**" in md
    page = (out / "index.html").read_text()
    assert "FAIL_TO_PASS: 1 pass, 0 fail (100%)" in page and "FAIL_TO_PASS: 0 pass, 1 fail (0%)" in page
    assert "tests/test_x.py::test_p2p" in page and "+&lt;fixed &amp; patched&gt;" in page
    assert ">org__csv_totals-1 — " in page
    width, _ = png_size((out / "cost_vs_solve.png").read_bytes())
    assert width > 1500  # one panel per tier


# ---------------------------------------------------------------- mistakes are one-line errors


@pytest.mark.parametrize("content, message", [
    (None, "no results file at"),
    ("{not json", "is not a results JSON"),
    ("[1, 2]", "is not a results JSON"),
    ('{"schema_version": 99, "rows": []}', "schema version 99"),
    ('{"schema_version": 1, "config": {}, "rows": [{"model": "m"}]}', "row 0 has no task_id, arm, outcome"),
    ('{"schema_version": 1, "config": {}, "rows": []}', "nothing to report"),
])  # fmt: skip
def test_bad_results_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(OutputError, match=re.escape(message)) as err:
        run_report([path], tmp_path / "out")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_no_files_a_directory_or_an_out_that_is_a_file_are_one_line_errors(gold_json, tmp_path):
    with pytest.raises(OutputError, match="at least one results file"):
        run_report([], tmp_path / "out")
    with pytest.raises(OutputError, match="is a directory"):
        run_report([tmp_path], tmp_path / "out")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="is a file; give a directory"):
        run_report([gold_json], blocker)


def test_missing_matplotlib_is_a_one_line_error(gold_json, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    with pytest.raises(OutputError, match=r"needs matplotlib .*pip install"):
        run_report([gold_json], tmp_path / "out")
