"""index.html rendered by a real browser: Debian's headless Chromium, driven two ways.

1. The command line (`--dump-dom`, `--screenshot`): the DOM after parsing holds the tables and the inlined plot, and
   the screenshot is a real page, not a blank one.
2. Debian's chromedriver, spoken to over its W3C WebDriver HTTP API with the standard library (no selenium: nothing
   here can download a browser): the plot image has decoded (naturalWidth > 0), the table has its rows, a hostile reply
   is shown as text inside its <pre> after the <details> are opened with real clicks, and its script never ran.

Chromium runs with the flags of DESIGN §14 and a fresh profile. The tests skip, saying why, only when Chromium or
chromedriver is not installed (`apt-get install -y chromium chromium-driver`); with BENCH_REQUIRE_BROWSER=1 that is a
failure instead, so CI cannot go green by skipping.
"""
from __future__ import annotations

import base64
import copy
import io
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import unavailable

from swebench_exec.report.build import run_report
from test_report import HOSTILE, make_gold_results

REQUIRE_ENV = "BENCH_REQUIRE_BROWSER"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1800"]  # fmt: skip
TIMEOUT_S = 90


def _unavailable(reason: str) -> None:
    unavailable("browser", reason, REQUIRE_ENV)


def _which(*names: str) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _which("chromium", "chromium-browser")
    if not path:
        _unavailable("Chromium is not installed (apt-get install -y chromium chromium-driver)")
    return path


@pytest.fixture(scope="module")
def chromedriver(chromium) -> str:
    path = _which("chromedriver")
    if not path:
        _unavailable("chromedriver is not installed (apt-get install -y chromium-driver)")
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """index.html for the gold run plus one extra row (a third series: hostile-model, bare arm only) whose reply
    ends in hostile HTML."""
    root = tmp_path_factory.mktemp("browser")
    gold = make_gold_results(root)
    document = json.loads(gold.read_text())
    hostile = copy.deepcopy(next(r for r in document["rows"] if r["arm"] == "bare" and r["task_id"] == "grid_path"))
    hostile["model"] = "hostile-model"
    hostile["response"]["text"] += HOSTILE
    document["rows"].append(hostile)
    path = root / "results.json"
    path.write_text(json.dumps(document))
    run_report([path], root / "report")
    return root / "report" / "index.html"


def _profile(tmp_path: Path, name: str) -> str:
    """A new, empty profile for each browser start (DESIGN §14)."""
    profile = tmp_path / f"profile-{name}"
    profile.mkdir()
    return f"--user-data-dir={profile}"


def _non_blank(png: bytes) -> tuple[int, float]:
    """(distinct colours, fraction of pixels that are not near-white) of a screenshot."""
    import numpy
    from PIL import Image  # both matplotlib dependencies

    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = numpy.asarray(image)
    return len(image.getcolors(1 << 24)), float((pixels.min(axis=2) < 235).mean())


def test_chromium_command_line_renders_tables_and_plot(chromium, page, tmp_path):
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, _profile(tmp_path, "dom"), "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<table class="summary">' in html and "FORMAT_ONLY" in html
    assert html.count('<details class="task"') == 5
    assert 'id="cost-vs-solve"' in html and 'src="data:image/png;base64,' in html
    assert "<script" not in html  # the hostile reply stayed text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html

    shot = tmp_path / "page.png"
    run = subprocess.run([chromium, *CHROMIUM_FLAGS, _profile(tmp_path, "shot"), f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    colours, inked = _non_blank(shot.read_bytes())
    assert colours > 50 and inked > 0.03, (colours, inked)


class WebDriver:
    """The few W3C WebDriver commands these tests need, over HTTP to a chromedriver this test started."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, driver: str, chromium: str, profile: str, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = log
        self.process = subprocess.Popen([driver, f"--port={self.port}", f"--log-path={log}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        stdin=subprocess.DEVNULL)  # fmt: skip
        self.session = None
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.fail(f"chromedriver did not start on port {self.port}: {self._log_tail()}", pytrace=False)
            time.sleep(0.1)
        options = {"binary": chromium, "args": [*CHROMIUM_FLAGS, profile]}
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _log_tail(self) -> str:
        try:
            return self.log.read_text()[-1500:]
        except OSError:
            return "(no log)"

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"WebDriver {method} {path}: {exc.code} {exc.read()[:1000]!r}") from None

    def cmd(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def script(self, source: str, *args):
        return self.cmd("POST", "/execute/sync", {"script": source, "args": list(args)})

    def find(self, css: str) -> str:
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[self.ELEMENT]

    def click(self, css: str) -> None:
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def screenshot(self) -> bytes:
        return base64.b64decode(self.cmd("GET", "/screenshot"))

    def close(self) -> None:
        try:
            if self.session:
                self._call("DELETE", f"/session/{self.session}")
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_webdriver_sees_the_plot_loaded_and_the_hostile_reply_inert(chromium, chromedriver, page, tmp_path):
    browser = WebDriver(chromedriver, chromium, _profile(tmp_path, "driver"), tmp_path / "chromedriver.log")
    try:
        browser.cmd("POST", "/url", {"url": page.as_uri()})
        state = browser.script("""
            const img = document.getElementById('cost-vs-solve');
            return {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
                    summaryRows: document.querySelectorAll('table.summary tbody tr').length,
                    deltaRows: document.querySelectorAll('table.deltas tbody tr').length,
                    tasks: document.querySelectorAll('details.task').length,
                    scripts: document.scripts.length, pwned: window.__pwned === undefined ? null : window.__pwned};
        """)
        assert state["complete"] and state["width"] > 600 and state["height"] > 400, state
        assert state["summaryRows"] == 3 and state["deltaRows"] == 2 and state["tasks"] == 5, state
        assert state["scripts"] == 0 and state["pwned"] is None, state

        task = browser.find("details.task:nth-of-type(3)")  # grid_path: tasks are in first-seen order
        heading = browser.cmd("GET", f"/element/{task}/text")
        assert heading.startswith("grid_path"), heading
        browser.click("details.task:nth-of-type(3) > summary")
        rows = browser.script("return [...document.querySelectorAll('details.task[open] > details.row > summary')]"
                              ".map(s => s.textContent)")  # fmt: skip
        hostile_index = next(i for i, text in enumerate(rows) if "hostile-model" in text) + 1
        browser.click(f"details.task[open] > details.row:nth-of-type({hostile_index}) > summary")
        shown = browser.script("""
            const row = document.querySelector('details.task[open] > details.row[open]');
            const pres = [...row.querySelectorAll('pre')].filter(p => p.offsetParent !== null);
            return {text: pres.map(p => p.innerText).join('\\n'), scripts: document.scripts.length,
                    pwned: window.__pwned === undefined ? null : window.__pwned,
                    imgs: document.images.length};
        """)
        assert "</details><script>window.__pwned = 1</script>" in shown["text"]  # visible, as text
        assert shown["scripts"] == 0 and shown["pwned"] is None and shown["imgs"] == 1, shown
        browser.script("const pre = document.querySelector('details.task[open] > details.row[open] pre:last-of-type');"
                       "pre.scrollTop = pre.scrollHeight; pre.scrollIntoView({block: 'end'});")  # the hostile tail
        png = browser.screenshot()
        (tmp_path / "opened.png").write_bytes(png)
        colours, inked = _non_blank(png)
        assert colours > 20 and inked > 0.03, (colours, inked)
    finally:
        browser.close()
