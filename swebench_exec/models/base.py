"""What every model returns, whatever answered: a real server, the gold model, or a replay of stored responses."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


def _count(value: Any) -> int | None:
    """A token count as reported, or None: a missing or malformed count is unknown, not zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or not 0 <= value < 1e15:
        return None  # NaN, infinite, negative or absurd counts are not counts
    return int(value)


@dataclass
class Usage:
    """Tokens as the server reported them; `None` where it did not say."""

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    reasoning_tokens: int | None

    @classmethod
    def from_report(cls, usage: Any) -> "Usage | None":
        """Read an OpenAI-style `usage` object; None when the server sent none at all."""
        if not isinstance(usage, dict):
            return None
        details = usage.get("completion_tokens_details")
        reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else usage.get("reasoning_tokens")
        return cls(
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            total_tokens=_count(usage.get("total_tokens")),
            reasoning_tokens=_count(reasoning),
        )


@dataclass
class Response:
    """One model answer and everything needed to score it honestly and to price it.

    `outcome` is one of `outcomes.MODEL_OUTCOMES` (scored) or `outcomes.INFRA_OUTCOMES` (never scored against the model).
    `price` is the price that produced `cost_usd` (None when the provider reported the cost or the server is local).
    `latency_s` is the last attempt's duration, so back-off waits do not make a model look slow.
    """

    text: str
    outcome: str
    usage: Usage | None = None
    cost_usd: float | None = None
    cost_source: str | None = None
    price: dict | None = None
    latency_s: float = 0.0
    finish_reason: str | None = None
    attempts: int = 1
    error: str | None = None
    raw: dict | None = None

    def record(self) -> dict:
        """A JSON-able dict for the results file."""
        return asdict(self)


class Model(Protocol):
    """Anything that answers a task prompt; `name` identifies it in results."""

    name: str

    def answer(self, prompt: str, harnessed: bool, sample: int = 0) -> Response:
        """`prompt` is the bare task prompt: the model wraps it with the contract when `harnessed`. `sample` is the
        sample index: replay serves the reply stored for it; live models ignore it."""
        ...
