"""The OpenAI-compatible model client: one chat completion per task prompt, every ending classified.

The SDK's own retries are off (`max_retries=0`) and the reply is read raw, because the SDK's retry loop and parser hide
exactly what a benchmark must record: how many attempts a call took, why it failed, and what the server really sent.
Redirects are not followed: a redirected endpoint is a wrong `--base-url`, and following it silently hides that.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Any

from ..contract import CURRENT_VERSION, build_prompt
from .base import Response
from .endpoints import (LOCAL_PLACEHOLDER_KEY, OPENROUTER_BASE_URL, is_loopback, is_openrouter, redact, resolve_api_key,
                        validate_base_url)  # fmt: skip
from .outcomes import Classified, classify_http, transport_failure
from .pricing import Price, cost_of, reported_cost

log = logging.getLogger(__name__)


class HarnessedClient:
    """A `Model` backed by any OpenAI-compatible server (OpenRouter by default).

    `local` overrides loopback detection for pricing: a loopback server costs 0, anything else is priced.
    The API key never leaves this object except in the Authorization header: responses and logs are redacted.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_tokens: int = 4096,
        temperature: float = 0.0,
        timeout_s: float = 300,
        max_retries: int = 5,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        price: Price | None = None,
        contract_version: str = CURRENT_VERSION,
        local: bool | None = None,
    ) -> None:
        import openai  # lazily: the CLI must start fast

        self.name = model
        self.base_url = validate_base_url(base_url or OPENROUTER_BASE_URL)
        self._api_key = resolve_api_key(self.base_url, api_key)
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.price = price
        self.contract_version = contract_version
        self.local = is_loopback(self.base_url) if local is None else local
        # Without usage.include OpenRouter does not report the cost it charged.
        self._extra_body = {"usage": {"include": True}} if is_openrouter(self.base_url) else None
        # timeout_s is httpx's limit for connecting and for each read; _read_body adds the deadline for the whole reply.
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self._api_key,
            max_retries=0,
            timeout=timeout_s,
            http_client=openai.DefaultHttpxClient(follow_redirects=False),
        )

    def complete(self, prompt: str, harnessed: bool = True, sample: int = 0) -> Response:
        """Answer a task prompt, wrapped with the execution contract when `harnessed`. Never raises for server trouble:
        the outcome says what happened."""
        sent = build_prompt(prompt, harnessed, self.contract_version)
        attempts = 0
        while True:
            attempts += 1
            result, latency_s = self._attempt(sent)
            if not result.retryable or attempts > self.max_retries:
                return self._response(result, latency_s, attempts)
            delay_s = self._delay(result, attempts)
            log.warning(self._redact(f"{self.name}: {result.error}; retry {attempts} of {self.max_retries} in {delay_s:.2f}s"))
            time.sleep(delay_s)

    answer = complete  # the `Model` protocol's name for the same call

    def _attempt(self, sent: str) -> tuple[Classified, float]:
        """One HTTP exchange and its verdict, with how long it took. The reply is streamed so that `_read_body` can
        hold the whole exchange to `timeout_s`."""
        import openai

        start = time.monotonic()

        def failed(detail: str) -> tuple[Classified, float]:
            return transport_failure(self.base_url, detail), time.monotonic() - start

        try:
            with self._client.chat.completions.with_streaming_response.create(
                model=self.name,
                messages=[{"role": "user", "content": sent}],
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                extra_body=self._extra_body,
            ) as reply:
                status, headers = reply.status_code, reply.headers
                body = self._read_body(reply, deadline=start + self.timeout_s)
            if body is None:
                return failed(f"no complete reply within {self.timeout_s}s")
        except openai.APIStatusError as exc:  # 3xx/4xx/5xx: still a reply to classify
            status, headers, body = exc.status_code, exc.response.headers, exc.response.text
        except openai.APITimeoutError:
            return failed(f"no reply within {self.timeout_s}s")
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            return failed(f"{type(cause).__name__}: {cause}")
        except Exception as exc:
            # The body is pulled outside the SDK, so httpx's own errors (reset, cut short, stalled) arrive unwrapped,
            # from httpx or httpx2 depending on the SDK's version.
            if not type(exc).__module__.startswith("httpx"):
                raise
            return failed(f"{type(exc).__name__}: {exc}")
        result = classify_http(status, headers, body, base_url=self.base_url, model=self.name, sent_prompt=sent,
                               sent_key=self._api_key != LOCAL_PLACEHOLDER_KEY)  # fmt: skip
        return result, time.monotonic() - start

    @staticmethod
    def _read_body(reply: Any, deadline: float) -> str | None:
        """The reply's body as text, or None once `deadline` (monotonic) passes before it is complete.

        httpx's timeout bounds each read, not the whole reply: a server that sends a byte now and then would hold the
        call, and a worker, for as long as it liked. Checking the clock at every chunk ends the attempt by the
        deadline, plus at most one gap between chunks (itself under the per-read timeout); leaving the `with` block
        closes the connection. Error replies (4xx/5xx) are read by the SDK before we see them, so only the per-read
        timeout bounds those.
        """
        chunks = []
        for chunk in reply.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                return None
        return b"".join(chunks).decode(reply.http_response.encoding or "utf-8", errors="replace")

    def _delay(self, result: Classified, attempt: int) -> float:
        """The server's Retry-After when it gave one, else capped exponential backoff with jitter (so parallel workers
        do not retry in lockstep). Both are capped, so one server cannot stall a run for hours."""
        if result.retry_after_s is not None:
            return min(result.retry_after_s, self.backoff_cap_s)
        return min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    def _response(self, result: Classified, latency_s: float, attempts: int) -> Response:
        cost, cost_source = cost_of(result.usage, self.price, reported_cost(result.data), self.local)
        error = result.error
        if result.retryable:  # only returned retryable when the retries ran out
            error = f"{error} (gave up after {attempts} attempts)"
        return Response(
            text=self._redact(result.text),
            outcome=result.outcome,
            usage=result.usage,
            cost_usd=cost,
            cost_source=cost_source,
            price=self.price.record() if cost_source == "price_table" else None,
            latency_s=round(latency_s, 4),
            finish_reason=result.finish_reason,
            attempts=attempts,
            error=self._redact(error),
            raw=self._redact(result.data),
        )

    def _redact(self, value: Any) -> Any:
        return redact(value, self._api_key)
