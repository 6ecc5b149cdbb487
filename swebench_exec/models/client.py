"""The OpenAI-compatible model client: one chat completion per task prompt, every ending classified.

The SDK's own retries are off (`max_retries=0`) and the reply is read raw, because the SDK's retry loop and parser hide
exactly what a benchmark must record: how many attempts a call took, why it failed, and what the server really sent.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Any

from ..contract import CURRENT_VERSION, build_prompt
from .base import Response
from .endpoints import OPENROUTER_BASE_URL, is_loopback, is_openrouter, redact, resolve_api_key, validate_base_url
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
        self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0, timeout=timeout_s)

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
        """One HTTP exchange and its verdict, with how long it took."""
        import openai

        start = time.monotonic()
        try:
            reply = self._client.chat.completions.with_raw_response.create(
                model=self.name,
                messages=[{"role": "user", "content": sent}],
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                extra_body=self._extra_body,
            )
            status, headers, body = reply.status_code, reply.headers, reply.text
        except openai.APIStatusError as exc:  # 4xx/5xx: still a reply to classify
            status, headers, body = exc.status_code, exc.response.headers, exc.response.text
        except openai.APITimeoutError:
            return transport_failure(self.base_url, f"no reply within {self.timeout_s}s"), time.monotonic() - start
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            return transport_failure(self.base_url, f"{type(cause).__name__}: {cause}"), time.monotonic() - start
        result = classify_http(status, headers, body, base_url=self.base_url, model=self.name, sent_prompt=sent)
        return result, time.monotonic() - start

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
