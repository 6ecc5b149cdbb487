"""Models: anything that answers a task prompt with a classified, priced `Response`.

Importing this package does not import `openai`; `HarnessedClient` does, when constructed.
"""
from .base import Model, Response, Usage
from .client import HarnessedClient
from .endpoints import OPENROUTER_BASE_URL, ConfigError, is_loopback, resolve_api_key, validate_base_url
from .outcomes import INFRA_OUTCOMES, MODEL_OUTCOMES, STOPS_MODEL
from .pricing import Price, cost_of

__all__ = [
    "ConfigError",
    "HarnessedClient",
    "INFRA_OUTCOMES",
    "MODEL_OUTCOMES",
    "Model",
    "OPENROUTER_BASE_URL",
    "Price",
    "Response",
    "STOPS_MODEL",
    "Usage",
    "cost_of",
    "is_loopback",
    "resolve_api_key",
    "validate_base_url",
]
