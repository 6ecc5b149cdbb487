"""What a call cost, and on what evidence: the provider's bill, a price table, or a local server (free).

Unknown stays unknown (`None`): a cost of 0 for a call we could not price would make a model look free in the report.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .base import Usage


@dataclass(frozen=True)
class Price:
    """USD per million tokens. `source` says where the numbers came from, so a row's cost can be audited later."""

    input_per_m: float
    output_per_m: float
    source: str

    @classmethod
    def blended(cls, per_m: float, source: str) -> "Price":
        """One price for every token, for models where only a blended figure is known."""
        return cls(input_per_m=per_m, output_per_m=per_m, source=source)

    def record(self) -> dict:
        return asdict(self)


def cost_of(
    usage: Usage | None,
    price: Price | None,
    reported_cost: float | None,
    is_local: bool,
) -> tuple[float | None, str | None]:
    """(cost in USD, source). The provider's own figure wins because it includes what tokens x price cannot
    (cache discounts, routing to a cheaper upstream); reasoning tokens are already inside completion_tokens."""
    if reported_cost is not None:
        return float(reported_cost), "provider"
    if is_local:
        return 0.0, "local"
    if price is None or usage is None or usage.prompt_tokens is None or usage.completion_tokens is None:
        return None, None
    cost = (usage.prompt_tokens * price.input_per_m + usage.completion_tokens * price.output_per_m) / 1_000_000
    return cost, "price_table"


def reported_cost(data: Any) -> float | None:
    """The cost the provider put in its reply (OpenRouter: `usage.cost`, with `usage: {"include": true}` requested)."""
    usage = data.get("usage") if isinstance(data, dict) else None
    cost = usage.get("cost") if isinstance(usage, dict) else None
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not math.isfinite(cost) or cost < 0:
        return None
    return float(cost)
