"""Where model calls go and with which key: base URL checks, loopback detection, key resolution, secret redaction.

Mistakes here are the user's to fix, so they raise `ConfigError` with a one-line message the CLI prints as is.
"""
from __future__ import annotations

import ipaddress
import re
import os
import socket
from typing import Any
from urllib.parse import urlsplit

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
LOCAL_PLACEHOLDER_KEY = "no-key-needed-for-local-server"  # the SDK insists on a key; loopback servers ignore it
REDACTED = "[REDACTED]"
_MIN_SECRET_LEN = 8  # blanking a shorter "key" everywhere would corrupt answers and protect nothing


class ConfigError(ValueError):
    """A user mistake (bad URL, missing key): shown as one line, no traceback."""


def validate_base_url(url: str) -> str:
    """Catch a malformed --base-url before the first call, rather than as a confusing connection error later."""
    cleaned = (url or "").strip()
    try:
        parts = urlsplit(cleaned)
        parts.port  # raises on a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(f"invalid base URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in cleaned):
        raise ConfigError(f"invalid base URL {url!r}: expected http(s)://host[:port]/path, e.g. http://localhost:11434/v1")
    return cleaned.rstrip("/")


def is_loopback(url: str) -> bool:
    """Loopback servers are the user's own: no key is required and calls cost nothing."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        return address.is_loopback or address.is_unspecified  # 0.0.0.0: "this host", as servers print it
    except ValueError:
        if re.fullmatch(r"[0-9.]+", host):  # shorthand IPv4 such as 127.1, as the resolver reads it
            try:
                return socket.inet_aton(host)[0] == 127
            except OSError:
                return False
        return False


def is_openrouter(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "openrouter.ai" or host.endswith(".openrouter.ai")


def resolve_api_key(base_url: str, api_key: str | None) -> str:
    """The explicit key, else the environment variable that fits the host.

    Loopback hosts never receive a key from the environment: a local server has no use for the user's OpenRouter key.
    """
    if api_key:
        return api_key
    if is_loopback(base_url):
        return LOCAL_PLACEHOLDER_KEY
    names = ("OPENROUTER_API_KEY",) if is_openrouter(base_url) else ("OPENAI_API_KEY", "OPENROUTER_API_KEY")
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise ConfigError(f"no API key for {base_url}: set {' or '.join(names)} (or pass --api-key-env)")


def check_reachable(base_url: str, timeout_s: float = 5.0) -> None:
    """Fail fast, before a run starts, when nothing listens at the base URL: one clear line instead of a transport error
    on every task. Only a TCP connect, so no key is sent and servers without GET /models pass too."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"the server at {base_url} could not be reached ({reason}): is it running, and is --base-url right?") from None


def redact(value: Any, secret: str | None) -> Any:
    """`value` with every occurrence of `secret` replaced, through nested dicts and lists (servers echo keys in errors)."""
    if not secret or len(secret) < _MIN_SECRET_LEN:
        return value
    if isinstance(value, str):
        value = value.replace(secret, REDACTED)
        for keep in range(len(secret) - 1, _MIN_SECRET_LEN - 1, -1):  # a key cut short by a shortened message
            if value.endswith(secret[:keep] + "…"):
                return value[: -keep - 1] + REDACTED + "…"
        return value
    if isinstance(value, dict):
        return {redact(k, secret): redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    return value
