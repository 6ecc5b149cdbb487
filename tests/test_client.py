"""The model client against a real HTTP server on 127.0.0.1: every way a call can end is classified and recorded,
and the API key never leaks into what is recorded or logged."""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import urllib.request
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.contract import build_prompt, load_contract
from swebench_exec.models import (
    INFRA_OUTCOMES,
    MODEL_OUTCOMES,
    OPENROUTER_BASE_URL,
    STOPS_MODEL,
    ConfigError,
    HarnessedClient,
    Price,
    Response,
    Usage,
    cost_of,
    is_loopback,
    resolve_api_key,
    validate_base_url,
)
from swebench_exec.models.endpoints import check_reachable
from swebench_exec.models.outcomes import retry_after_seconds

KEY = "sk-or-v1-FAKEKEY-7f3a9c1e-must-never-be-recorded"
PRICE = Price(input_per_m=3.0, output_per_m=15.0, source="test table")
TRUNCATED_TEXT = "FILE: solve.py\n```python\ndef solve(x):\n    return sorted(x"


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def capture_all_logs(caplog):
    """DEBUG everywhere, SDK and HTTP library included, so a key leaking through any logger is caught."""
    caplog.set_level(logging.DEBUG)


def make_client(server: ScriptedServer, **overrides) -> HarnessedClient:
    options = dict(api_key=KEY, backoff_base_s=0.01, max_retries=2, max_tokens=321, timeout_s=10)
    options.update(overrides)
    return HarnessedClient("scripted-model", base_url=server.url, **options)


def assert_secret_free(response: Response, caplog) -> None:
    record = json.dumps(response.record())
    assert KEY not in record
    assert KEY not in caplog.text


def assert_every_request_explicit(server: ScriptedServer, client: HarnessedClient) -> None:
    requests = server.chat_requests()
    assert requests, "no request reached the server"
    for request in requests:
        assert request.json["max_tokens"] == client.max_tokens
        assert request.json["model"] == client.name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- model outcomes ---------------------------------------------------------------------------------------------


def test_normal_answer_is_ok_with_reported_usage(server, caplog):
    server.enqueue(chat_reply("FILE: a.py\n```python\nprint(1)\n```", usage={"prompt_tokens": 300, "completion_tokens": 12, "total_tokens": 312}))
    client = make_client(server)
    response = client.complete("Write a.py", harnessed=True)
    assert response.outcome == "ok" and response.outcome in MODEL_OUTCOMES
    assert response.attempts == 1 and len(server.chat_requests()) == 1
    assert response.text.startswith("FILE: a.py")
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=300, completion_tokens=12, total_tokens=312, reasoning_tokens=None)
    assert response.error is None and response.latency_s > 0
    assert response.raw["choices"][0]["message"]["content"] == response.text
    assert (response.cost_usd, response.cost_source) == (0.0, "local")  # loopback server
    assert json.loads(json.dumps(response.record()))["usage"]["prompt_tokens"] == 300
    assert_every_request_explicit(server, client)
    assert_secret_free(response, caplog)


def test_request_carries_explicit_max_tokens_and_the_key_only_in_the_header(server, caplog):
    server.enqueue(chat_reply("hi"))
    client = make_client(server, temperature=0.3)
    response = client.complete("task")
    [request] = server.chat_requests()
    assert request.json["max_tokens"] == 321 and request.json["temperature"] == 0.3
    assert request.json["messages"] == [{"role": "user", "content": build_prompt("task", True)}]
    assert "usage" not in request.json  # OpenRouter's usage.include goes to OpenRouter only
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert_secret_free(response, caplog)


def test_contract_is_prepended_only_when_harnessed(server, caplog):
    server.enqueue(chat_reply("a"), chat_reply("b"), chat_reply("c"))
    client = make_client(server)
    client.complete("TASK PROMPT", harnessed=True)
    client.complete("TASK PROMPT", harnessed=False)
    client.answer("TASK PROMPT", False)
    sent = [r.json["messages"][0]["content"] for r in server.chat_requests()]
    contract = load_contract("v1").text.rstrip()
    assert sent[0].startswith(contract) and sent[0].endswith("TASK PROMPT")
    assert sent[1] == sent[2] == "TASK PROMPT"
    assert_every_request_explicit(server, client)


def test_length_finish_is_truncated_and_keeps_text_usage_and_cost(server, caplog):
    usage = {"prompt_tokens": 1000, "completion_tokens": 321, "total_tokens": 1321}
    server.enqueue(chat_reply(TRUNCATED_TEXT, finish_reason="length", usage=usage))
    client = make_client(server, price=PRICE, local=False)
    response = client.complete("task")
    assert response.outcome == "truncated" and response.attempts == 1
    assert response.text == TRUNCATED_TEXT
    assert response.usage.completion_tokens == 321
    assert response.cost_usd == pytest.approx((1000 * 3.0 + 321 * 15.0) / 1e6)
    assert response.cost_source == "price_table"
    assert response.price == {"input_per_m": 3.0, "output_per_m": 15.0, "source": "test table"}
    assert_every_request_explicit(server, client)
    assert_secret_free(response, caplog)


@pytest.mark.parametrize("content", ["", "   \n\t"])
def test_empty_content_with_reasoning_is_empty_answer(server, caplog, content):
    server.enqueue(chat_reply(content, reasoning_content="Let me think about sorting..."))
    response = make_client(server).complete("task")
    assert response.outcome == "empty_answer" and response.attempts == 1
    assert response.raw["choices"][0]["message"]["reasoning_content"] == "Let me think about sorting..."
    assert "reasoning" in response.error
    assert_secret_free(response, caplog)


def test_null_content_is_empty_answer(server, caplog):
    server.enqueue(chat_reply(None))
    response = make_client(server).complete("task")
    assert response.outcome == "empty_answer" and response.text == ""


def test_prompt_tokens_far_below_estimate_is_context_truncated(server, caplog):
    long_task = "Fix the bug in this file.\n" + "x = compute(y)  # line\n" * 400  # ~9000 chars, ~2300 tokens
    server.enqueue(chat_reply("ok", usage={"prompt_tokens": 512, "completion_tokens": 1, "total_tokens": 513}))
    server.enqueue(chat_reply("ok"))  # auto usage: a server that saw the whole prompt
    client = make_client(server)
    cut = client.complete(long_task)
    whole = client.complete(long_task)
    assert cut.outcome == "context_truncated" and "512 prompt tokens" in cut.error
    assert whole.outcome == "ok"
    assert_secret_free(cut, caplog)


# --- infrastructure outcomes ------------------------------------------------------------------------------------

BAD_200_BODIES = {
    "empty choices with error": {"choices": [], "error": {"message": "upstream overloaded", "code": 502}},
    "empty choices": {"id": "x", "choices": []},
    "null message": {"choices": [{"index": 0, "message": None, "finish_reason": None}]},
}


@pytest.mark.parametrize("body", BAD_200_BODIES.values(), ids=BAD_200_BODIES.keys())
def test_bad_200_is_provider_error_then_retried_to_success(server, caplog, body):
    server.enqueue(Reply(body=body), chat_reply("fine"))
    client = make_client(server)
    response = client.complete("task")
    assert response.outcome == "ok" and response.attempts == 2
    assert len(server.chat_requests()) == 2
    assert_every_request_explicit(server, client)
    assert_secret_free(response, caplog)


def test_provider_error_exhausts_retries(server, caplog):
    body = BAD_200_BODIES["empty choices with error"]
    server.enqueue(*[Reply(body=body)] * 3)
    response = make_client(server, max_retries=2).complete("task")
    assert response.outcome == "provider_error" and response.outcome in INFRA_OUTCOMES
    assert response.attempts == 3 and len(server.chat_requests()) == 3
    assert "upstream overloaded" in response.error and "gave up after 3 attempts" in response.error
    assert response.raw["error"]["code"] == 502
    assert response.text == "" and response.usage is None
    assert_secret_free(response, caplog)


def test_500_then_success(server, caplog):
    server.enqueue(Reply(status=500, body={"error": {"message": "internal"}}), chat_reply("done"))
    response = make_client(server).complete("task")
    assert (response.outcome, response.attempts, response.text) == ("ok", 2, "done")
    assert len(server.chat_requests()) == 2


def test_429_retry_after_is_honoured(server, caplog):
    server.enqueue(Reply(status=429, headers={"Retry-After": "1"}, body={"error": {"message": "slow down"}}), chat_reply("done"))
    client = make_client(server)
    response = client.complete("task")
    first, second = server.chat_requests()
    assert second.at - first.at >= 0.95
    assert (response.outcome, response.attempts) == ("ok", 2)
    assert "rate limited" in caplog.text
    assert_every_request_explicit(server, client)
    assert_secret_free(response, caplog)


def test_429_exhausted_is_rate_limited(server, caplog):
    server.enqueue(*[Reply(status=429, body={"error": {"message": "slow down"}})] * 2)
    response = make_client(server, max_retries=1).complete("task")
    assert (response.outcome, response.attempts) == ("rate_limited", 2)
    assert "slow down" in response.error


def test_402_is_insufficient_credits_and_never_retried(server, caplog):
    server.enqueue(Reply(status=402, body={"error": {"message": "Insufficient credits", "code": 402}}), chat_reply("never sent"))
    response = make_client(server, max_retries=5).complete("task")
    assert response.outcome == "insufficient_credits" and response.outcome in STOPS_MODEL
    assert response.attempts == 1 and len(server.chat_requests()) == 1
    assert server.url in response.error and "Insufficient credits" in response.error
    assert_secret_free(response, caplog)


def test_html_page_with_200_is_config_error_naming_the_url(server, caplog):
    server.enqueue(Reply(body="<!doctype html><html><body>Welcome to nginx</body></html>"))
    response = make_client(server).complete("task")
    assert response.outcome == "config_error" and response.outcome in STOPS_MODEL
    assert response.attempts == 1 and len(server.chat_requests()) == 1
    assert response.error == f"{server.url} answered with HTML, not the OpenAI API: is --base-url right (usually ends in /v1)?"
    assert_secret_free(response, caplog)


@pytest.mark.parametrize(
    "reply, expected",
    [
        (Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}}), "rejected the API key"),
        (Reply(status=403, body={"error": {"message": "forbidden"}}), "refused the request"),
        (Reply(status=404, body={"error": {"message": "model not found"}}), "check --base-url"),
        (Reply(status=404, body="<html><h1>Not Found</h1></html>"), "answered with HTML"),
        (Reply(status=200, body="OK"), "other than JSON"),
    ],
    ids=["401-echoing-key", "403", "404", "404-html", "200-plain-text"],
)
def test_config_errors_stop_at_once_and_say_what_to_fix(server, caplog, reply, expected):
    server.enqueue(reply, chat_reply("never sent"))
    response = make_client(server).complete("task")
    assert response.outcome == "config_error" and response.attempts == 1
    assert server.url in response.error and expected in response.error
    assert_secret_free(response, caplog)


def test_a_401_from_a_local_server_that_got_no_key_says_how_to_give_one(server, caplog):
    server.enqueue(Reply(status=401, body={"error": {"message": "missing key"}}))
    response = make_client(server, api_key=None).complete("task")
    assert response.outcome == "config_error"
    assert "none was sent to this local server: pass it with --api-key-env" in response.error


def test_400_is_provider_error_not_retried(server, caplog):
    """A request the server rejects (e.g. over the context limit) fails the same way again; other tasks may be fine."""
    server.enqueue(Reply(status=400, body={"error": {"message": "maximum context length exceeded"}}), chat_reply("x"))
    response = make_client(server).complete("task")
    assert (response.outcome, response.attempts) == ("provider_error", 1)
    assert "maximum context length" in response.error
    assert response.outcome not in STOPS_MODEL


def test_embedded_error_code_classifies_like_its_status(server, caplog):
    server.enqueue(Reply(body={"error": {"message": "out of credits", "code": 402}}))
    response = make_client(server).complete("task")
    assert (response.outcome, response.attempts) == ("insufficient_credits", 1)


def test_connection_refused_is_transport_error_naming_the_url(caplog):
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = HarnessedClient("m", base_url=url, api_key=KEY, max_retries=2, backoff_base_s=0.01)
    response = client.complete("task")
    assert response.outcome == "transport_error" and response.attempts == 3
    assert f"the server at {url} could not be reached" in response.error
    assert "gave up after 3 attempts" in response.error
    assert (response.cost_usd, response.cost_source) == (0.0, "local")
    assert_secret_free(response, caplog)


def test_timeout_is_transport_error(server, caplog):
    server.enqueue(Reply(delay_s=1.0, body={"choices": []}))
    response = make_client(server, timeout_s=0.2, max_retries=0).complete("task")
    assert (response.outcome, response.attempts) == ("transport_error", 1)
    assert "no reply within 0.2s" in response.error


def test_trickled_body_ends_at_the_whole_call_deadline(server, caplog):
    """Every byte comes well within the per-read timeout, the whole body (~5 s) never within timeout_s."""
    server.enqueue(*[Reply(body=chat_reply("x" * 200).body, trickle_s=0.02)] * 2)
    start = time.monotonic()
    response = make_client(server, timeout_s=0.5, max_retries=1).complete("task")
    assert (response.outcome, response.attempts) == ("transport_error", 2)
    assert "no complete reply within 0.5s" in response.error and "gave up after 2 attempts" in response.error
    assert response.latency_s < 0.5 + 0.3
    assert time.monotonic() - start < 2 * (0.5 + 0.3)  # both attempts held to the deadline, the backoff is 10 ms
    assert_secret_free(response, caplog)


def test_slow_but_steady_body_within_the_deadline_is_ok(server, caplog):
    server.enqueue(Reply(body=chat_reply("hi").body, trickle_s=0.001))
    response = make_client(server, timeout_s=5).complete("task")
    assert (response.outcome, response.text, response.attempts) == ("ok", "hi", 1)


@pytest.mark.parametrize("status", [301, 307])
def test_redirect_is_config_error_not_followed(server, caplog, status):
    with ScriptedServer() as elsewhere:
        target = f"{elsewhere.url}/chat/completions"
        server.enqueue(Reply(status=status, headers={"Location": target}), chat_reply("never sent"))
        response = make_client(server).complete("task")
        assert (response.outcome, response.attempts) == ("config_error", 1)
        assert not elsewhere.requests  # neither the prompt nor the key went anywhere else
    assert response.error == (f"{server.url} redirected the request (HTTP {status}) to {target}, which was not "
                              "followed: check --base-url")  # fmt: skip
    assert_secret_free(response, caplog)


def test_dropped_connection_then_success(server, caplog):
    server.enqueue(Reply(drop=True), chat_reply("back"))
    response = make_client(server).complete("task")
    assert (response.outcome, response.attempts, response.text) == ("ok", 2, "back")


# --- usage and cost ---------------------------------------------------------------------------------------------


def test_missing_usage_is_unknown_not_zero(server, caplog):
    server.enqueue(chat_reply("hi", usage=None), chat_reply("hi", usage=None))
    priced = make_client(server, price=PRICE, local=False).complete("task")
    local = make_client(server, price=PRICE).complete("task")
    assert priced.usage is None and (priced.cost_usd, priced.cost_source, priced.price) == (None, None, None)
    assert local.usage is None and (local.cost_usd, local.cost_source, local.price) == (0.0, "local", None)


def test_provider_reported_cost_wins(server, caplog):
    server.enqueue(chat_reply("hi", usage={"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}, cost=0.0123))
    response = make_client(server, price=PRICE, local=False).complete("task")
    assert (response.cost_usd, response.cost_source, response.price) == (0.0123, "provider", None)


def test_reasoning_tokens_are_read_from_completion_details(server, caplog):
    usage = {"prompt_tokens": 5, "completion_tokens": 50, "total_tokens": 55, "completion_tokens_details": {"reasoning_tokens": 40}}
    server.enqueue(chat_reply("hi", usage=usage))
    assert make_client(server).complete("task").usage.reasoning_tokens == 40


def test_cost_of_rules():
    usage = Usage(prompt_tokens=2_000_000, completion_tokens=1_000_000, total_tokens=3_000_000, reasoning_tokens=None)
    assert cost_of(usage, PRICE, None, False) == (21.0, "price_table")
    assert cost_of(usage, Price.blended(3.0, "seed"), None, False) == (9.0, "price_table")
    assert cost_of(usage, PRICE, 0.5, False) == (0.5, "provider")
    assert cost_of(usage, PRICE, None, True) == (0.0, "local")
    assert cost_of(usage, None, None, False) == (None, None)
    partial = Usage(prompt_tokens=10, completion_tokens=None, total_tokens=None, reasoning_tokens=None)
    assert cost_of(partial, PRICE, None, False) == (None, None)


def test_usage_from_report_keeps_unknowns_unknown():
    assert Usage.from_report(None) is None
    assert Usage.from_report({"prompt_tokens": 7}) == Usage(7, None, None, None)


# --- secrets ----------------------------------------------------------------------------------------------------


def test_key_echoed_by_server_is_redacted_everywhere(server, caplog):
    echo = {"error": {"message": f"bad upstream for key {KEY}"}}
    server.enqueue(Reply(status=503, body=echo), chat_reply(f"your key is {KEY}"))
    response = make_client(server).complete("task")
    assert response.outcome == "ok" and response.attempts == 2
    assert response.text == "your key is [REDACTED]"
    assert "[REDACTED]" in caplog.text  # the retry warning quoted the server's message, redacted
    assert_secret_free(response, caplog)


def test_client_repr_does_not_show_the_key(server):
    assert KEY not in repr(make_client(server))


# --- OpenRouter specifics, through an HTTP proxy so nothing leaves the machine -----------------------------------


def test_openrouter_requests_ask_for_usage_and_cost(server, caplog, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    server.enqueue(chat_reply("hi", usage={"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}, cost=0.002))
    client = HarnessedClient("anthropic/claude-haiku-4.5", base_url="http://openrouter.ai/api/v1", backoff_base_s=0.01)
    response = client.complete("task")
    [request] = server.chat_requests()
    assert request.json["usage"] == {"include": True} and request.json["max_tokens"] == 4096
    assert (response.outcome, response.cost_usd, response.cost_source) == ("ok", 0.002, "provider")
    assert_secret_free(response, caplog)


# --- endpoints --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "localhost:8080/v1", "ftp://example.com/v1", "http://", "http://host:port/v1", "openrouter.ai/api/v1"])
def test_validate_base_url_rejects_malformed(url):
    with pytest.raises(ConfigError) as err:
        validate_base_url(url)
    assert repr(url) in str(err.value)


def test_validate_base_url_normalises():
    assert validate_base_url(" http://localhost:11434/v1/ ") == "http://localhost:11434/v1"
    assert validate_base_url(OPENROUTER_BASE_URL) == OPENROUTER_BASE_URL


@pytest.mark.parametrize(
    "url, expected",
    [("http://localhost:8080/v1", True), ("http://127.0.0.9/v1", True), ("http://[::1]:8080/v1", True),
     ("https://openrouter.ai/api/v1", False), ("http://10.0.0.2/v1", False), ("http://localhost.example.com/v1", False)],
)
def test_is_loopback(url, expected):
    assert is_loopback(url) is expected


def test_resolve_api_key(monkeypatch):
    for name in ("OPENROUTER_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    remote = "https://api.example.com/v1"
    assert resolve_api_key(OPENROUTER_BASE_URL, "explicit-key-123") == "explicit-key-123"
    with pytest.raises(ConfigError, match=r"^no API key for https://openrouter.ai/api/v1: set OPENROUTER_API_KEY \(or pass --api-key-env\)$"):
        resolve_api_key(OPENROUTER_BASE_URL, None)
    with pytest.raises(ConfigError, match="no API key for https://api.example.com/v1"):
        resolve_api_key(remote, None)
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-key-12345678")
    assert resolve_api_key(OPENROUTER_BASE_URL, None) == "or-key-12345678"
    assert resolve_api_key(remote, None) == "or-key-12345678"
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key-12345678")
    assert resolve_api_key(remote, None) == "oa-key-12345678"
    assert resolve_api_key(OPENROUTER_BASE_URL, None) == "or-key-12345678"
    local = resolve_api_key("http://localhost:8080/v1", None)
    assert local not in ("or-key-12345678", "oa-key-12345678")  # a local server never gets the user's keys


def test_client_construction_reports_config_errors(monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENROUTER_API_KEY"):
        HarnessedClient("anthropic/claude-haiku-4.5")
    with pytest.raises(ConfigError, match="invalid base URL"):
        HarnessedClient("m", base_url="localhost:8080")


def test_check_reachable(server):
    check_reachable(server.url)
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ConfigError, match=f"the server at {url} could not be reached"):
        check_reachable(url, timeout_s=1)


def test_retry_after_forms():
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({}) is None and retry_after_seconds({"retry-after": "soon"}) is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds({"retry-after": later}) <= 30


# --- packaging and the test server itself ------------------------------------------------------------------------


def test_importing_models_does_not_import_openai():
    code = "import sys, swebench_exec.models; assert 'openai' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reply_for_scripts_by_prompt_and_models_endpoint_answers(caplog):
    def reply_for(request):
        return "pong" if "ping" in request["messages"][0]["content"] else Reply(status=500)

    with ScriptedServer(reply_for=reply_for, models=["a", "b"]) as srv:
        client = make_client(srv, max_retries=0)
        assert client.complete("ping", harnessed=False).text == "pong"
        assert client.complete("other", harnessed=False).outcome == "provider_error"
        with urllib.request.urlopen(f"{srv.url}/models") as reply:
            assert [m["id"] for m in json.load(reply)["data"]] == ["a", "b"]


def test_scripted_server_runs_as_a_process(tmp_path: Path, caplog):
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"replies": [{"status": 503, "body": {"error": {"message": "warming up"}}}],
                                   "default": {"chat": {"content": "from the file"}}}))
    script = Path(__file__).with_name("scripted_server.py")
    proc = subprocess.Popen([sys.executable, str(script), "--port", "0", "--replies", str(replies)], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        client = HarnessedClient("m", base_url=url, backoff_base_s=0.01)
        responses = [client.complete("task") for _ in range(2)]
        assert [(r.outcome, r.attempts, r.text) for r in responses] == [("ok", 2, "from the file"), ("ok", 1, "from the file")]
    finally:
        proc.terminate()
        proc.wait(timeout=5)
