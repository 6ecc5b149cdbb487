"""How a model call ended, decided from what the server actually sent.

Only model outcomes are scored. Infrastructure outcomes say nothing about the model (a 429 is not a wrong answer), so
they are recorded, retried where that can help, and re-run on `--resume`, but never counted against the model.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from .base import Usage

MODEL_OUTCOMES = ("ok", "truncated", "empty_answer", "context_truncated")
INFRA_OUTCOMES = ("rate_limited", "provider_error", "insufficient_credits", "config_error", "transport_error",
                  "not_recorded")  # not_recorded: a replay file holds no reply to that prompt and sample
STOPS_MODEL = ("insufficient_credits", "config_error")  # calling that model again cannot succeed until the user acts

# A server reporting under a quarter of the chars/4 estimate is not tokenizing differently (no tokenizer packs 16
# characters a token): it dropped part of the prompt to fit its context window, as Ollama does by default. Below 1000
# estimated tokens the estimate is too rough to judge.
CONTEXT_CHECK_MIN_ESTIMATE = 1000
CONTEXT_TRUNCATION_RATIO = 0.25

_BASE_URL_HINT = "is --base-url right (usually ends in /v1)?"
_DETAIL_CHARS = 300


@dataclass(frozen=True)
class Classified:
    """One HTTP exchange, judged. `data` is the server's JSON (when it sent JSON); `retryable` means trying the same
    request again can succeed; `retry_after_s` is the wait the server asked for."""

    outcome: str
    text: str = ""
    data: dict | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after_s: float | None = None


def classify_http(status: int, headers: Mapping[str, str], body: str, *, base_url: str, model: str, sent_prompt: str,
                  sent_key: bool = True) -> Classified:  # fmt: skip
    """Judge a reply by status first, then by body: a 200 can still be an HTML page or carry an error object.
    `sent_key` is false when no real key went with the request (a loopback server gets none from the environment)."""
    data, is_html = _parse_body(body)
    if 200 <= status < 300:
        if not is_html and (not body.strip() or (data is None and body.lstrip()[:1] in "{[")):
            # an empty or cut-off JSON 200 is a glitch to retry, not a wrong endpoint
            return Classified("provider_error", error=f"{base_url} returned an empty or malformed reply", retryable=True)
        if is_html or not isinstance(data, dict):
            kind = "HTML" if is_html else "something other than JSON"
            return Classified("config_error", error=f"{base_url} answered with {kind}, not the OpenAI API: {_BASE_URL_HINT}")
        return classify_completion(data, sent_prompt, base_url=base_url, model=model)
    if 300 <= status < 400 and headers.get("location"):
        # Not followed: the endpoint lives elsewhere, and a silent hop would hide it (and could carry the key along).
        return Classified("config_error", error=f"{base_url} redirected the request (HTTP {status}) to "
                                                f"{headers['location']}, which was not followed: check --base-url")
    outcome, retryable = _status_outcome(status)
    json_data = data if isinstance(data, dict) else None
    if outcome == "config_error" and is_html:
        return Classified(outcome, data=json_data, error=f"{base_url} answered with HTML (HTTP {status}), not the OpenAI API: {_BASE_URL_HINT}")
    return Classified(
        outcome,
        data=json_data,
        error=_with_detail(_status_message(status, outcome, base_url, model, sent_key), _detail(data, body, is_html)),
        retryable=retryable,
        retry_after_s=retry_after_seconds(headers) if outcome == "rate_limited" else None,
    )


def classify_completion(data: dict, sent_prompt: str, *, base_url: str, model: str) -> Classified:
    """Judge a 200 JSON chat completion."""
    error = data.get("error")
    if error:
        return _embedded_error(data, error, base_url, model)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Classified("provider_error", data=data, error=f"{base_url} returned no choices", retryable=True)
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return Classified("provider_error", data=data, error=f"{base_url} returned a choice without a message", retryable=True)
    text = _content_text(message.get("content"))
    finish_reason = choices[0].get("finish_reason")
    usage = Usage.from_report(data.get("usage"))
    outcome, note = _model_outcome(text, finish_reason, usage, sent_prompt, message)
    return Classified(outcome, text=text, data=data, usage=usage, finish_reason=finish_reason, error=note)


def transport_failure(base_url: str, detail: str) -> Classified:
    """No HTTP reply at all (refused, reset, timed out): worth retrying, the server may be starting or overloaded."""
    return Classified("transport_error", error=f"the server at {base_url} could not be reached: {detail}", retryable=True)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 asks for: `retry-after-ms`, or `Retry-After` as seconds or an HTTP date. None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _number(millis)
        return None if seconds is None else seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    from email.utils import parsedate_to_datetime  # ~15 ms to import; only date-form headers need it

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _model_outcome(text: str, finish_reason: Any, usage: Usage | None, sent_prompt: str, message: dict) -> tuple[str, str | None]:
    """Context truncation comes first: an answer to a cut prompt is not a fair answer, however it ended."""
    estimate = len(sent_prompt) / 4
    reported = usage.prompt_tokens if usage else None
    # A reported 0 is a server that does not count, not one that saw nothing.
    if reported and estimate >= CONTEXT_CHECK_MIN_ESTIMATE and reported < estimate * CONTEXT_TRUNCATION_RATIO:
        return "context_truncated", (
            f"the server counted {reported} prompt tokens for a prompt of about {int(estimate)}: it probably cut the "
            "prompt to fit its context window (raise the server's context size, e.g. Ollama's num_ctx)"
        )
    if finish_reason == "length":
        return "truncated", "finish_reason 'length': the answer was cut at max_tokens"
    if not text.strip():
        has_reasoning = bool(message.get("reasoning_content") or message.get("reasoning"))
        return "empty_answer", "reasoning but no answer content" if has_reasoning else "no answer content"
    return "ok", None


def _embedded_error(data: dict, error: Any, base_url: str, model: str) -> Classified:
    """Some providers (OpenRouter) send upstream failures as a 200 with an error object; its code, when an HTTP
    status, classifies it like the status would."""
    code = error.get("code") if isinstance(error, dict) else None
    code = int(code) if isinstance(code, float) and code.is_integer() else code
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    outcome, retryable = _status_outcome(status)
    message = f"{base_url} returned an error in a 200 reply" + (f" (code {code})" if code is not None else "")
    return Classified(outcome, data=data, error=_with_detail(message, _detail(data, "", False)), retryable=retryable)


def _status_outcome(status: int) -> tuple[str, bool]:
    """(outcome, retryable) for an HTTP error status."""
    if status == 402:
        return "insufficient_credits", False
    if status == 429:
        return "rate_limited", True
    if status in (401, 403, 404, 405) or status < 400:
        return "config_error", False
    if status >= 500 or status in (408, 409):
        return "provider_error", True
    # Other 4xx (400, 413, 422: e.g. a prompt over the model's context): this request is at fault, so the same request
    # fails the same way; but the next task may be fine, so it does not stop the model either.
    return "provider_error", False


def _status_message(status: int, outcome: str, base_url: str, model: str, sent_key: bool) -> str:
    if outcome == "insufficient_credits":
        return f"{base_url} says the account is out of credits (HTTP 402): add credits or choose another model"
    if outcome == "rate_limited":
        return f"rate limited by {base_url} (HTTP 429)"
    if status == 401:
        if not sent_key:
            return (f"{base_url} wants an API key (HTTP 401), and none was sent to this local server: pass it with "
                    "--api-key-env VAR")
        return f"{base_url} rejected the API key (HTTP 401): check the key (OPENROUTER_API_KEY, or --api-key-env)"
    if status == 403:
        return f"{base_url} refused the request (HTTP 403): check the key's permissions and limits for model {model!r}"
    if status in (404, 405):
        return f"{base_url} has no chat completions endpoint or no model {model!r} (HTTP {status}): check --base-url (usually ends in /v1) and the model id"
    if status < 400:
        return f"{base_url} answered HTTP {status} instead of a completion: {_BASE_URL_HINT}"
    return f"{base_url} failed with HTTP {status}"


def _parse_body(body: str) -> tuple[Any, bool]:
    """(JSON value or None, looks like HTML). Content-type is not trusted: servers mislabel both ways."""
    try:
        return json.loads(body), False
    except ValueError:
        return None, body.lstrip()[:1] == "<"


def _detail(data: Any, body: str, is_html: bool) -> str | None:
    """The server's own explanation, short: error.message, a bare error string, FastAPI's detail, or the text itself."""
    if isinstance(data, dict):
        error = data.get("error")
        for candidate in (error.get("message") if isinstance(error, dict) else error, data.get("detail"), data.get("message")):
            if isinstance(candidate, str) and candidate.strip():
                return _shorten(candidate)
        return None
    return None if is_html or not body.strip() else _shorten(body)


def _with_detail(message: str, detail: str | None) -> str:
    return f"{message}; server said: {detail}" if detail else message


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DETAIL_CHARS else flat[: _DETAIL_CHARS - 1] + "…"


def _content_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a content-part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None
