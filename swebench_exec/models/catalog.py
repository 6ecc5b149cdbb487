"""Model lists with prices (`harness/models/*.toml`, `--models-file`) and `--price` overrides."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .endpoints import ConfigError
from .pricing import Price

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class ModelEntry:
    id: str
    label: str
    price: Price | None


PRICE_KEYS = ("input", "output", "blended")
ENTRY_KEYS = ("label", *PRICE_KEYS)


def _price(model: str, entry: dict, source: str) -> Price | None:
    """The entry's price; a typo'd key or a price that is not a number is refused, naming the model and the key."""
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{source}: {model} has unknown key(s) {', '.join(unknown)} (known: {', '.join(ENTRY_KEYS)})")
    prices = {}
    for key in PRICE_KEYS:
        if key in entry:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"{source}: {model} {key} = {value!r} is not a price (USD per million tokens, >= 0)")
            prices[key] = float(value)
    if "blended" in prices:
        return Price.blended(prices["blended"], source)
    if "input" in prices and "output" in prices:
        return Price(prices["input"], prices["output"], source)
    if prices:
        raise ConfigError(f"{source}: {model} needs both `input` and `output` prices (or one `blended`)")
    return None


def load_models_file(path: str | Path) -> list[ModelEntry]:
    """Every `[models."<id>"]` table of a TOML file, in file order."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--models-file {path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--models-file {path}: not valid TOML ({exc})") from None
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        raise ConfigError(f'--models-file {path}: no [models."<id>"] tables')
    bad = [model for model, entry in models.items() if not isinstance(entry, dict)]
    if bad:
        raise ConfigError(f'--models-file {path}: {bad[0]} is not a table ([models."{bad[0]}"] with its keys)')
    return [ModelEntry(model, str(entry.get("label", model)), _price(model, entry, path.name))
            for model, entry in models.items()]  # fmt: skip


def parse_price_override(text: str) -> tuple[str, Price]:
    """`MODEL=IN,OUT` or `MODEL=BLENDED`, USD per million tokens."""
    model, sep, numbers = text.rpartition("=")
    try:
        values = [float(v) for v in numbers.split(",")]
    except ValueError:
        values = []
    if not sep or not model or len(values) not in (1, 2) or any(v < 0 for v in values):
        raise ConfigError(f"--price {text!r}: expected MODEL=IN,OUT or MODEL=BLENDED (USD per million tokens)")
    price = Price.blended(values[0], "--price") if len(values) == 1 else Price(values[0], values[1], "--price")
    return model, price


def price_table(entries: list[ModelEntry], overrides: list[str]) -> dict[str, Price]:
    """Prices by model id: the file's, then each --price on top."""
    table = {e.id: e.price for e in entries if e.price is not None}
    table.update(parse_price_override(o) for o in overrides)
    return table
