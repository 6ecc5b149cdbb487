"""`replay:PATH` serves the responses stored in a results file, for demos, regression tests and re-scoring
without keys. A reply is found by the hash of the exact prompt it answered; each sample index gets its own stored reply."""
from __future__ import annotations

from pathlib import Path

from ..contract import build_prompt
from .base import Response, Usage
from .endpoints import ConfigError
from .outcomes import MODEL_OUTCOMES

PREFIX = "replay:"


def response_from_record(record: dict) -> Response:
    usage = record.get("usage")
    return Response(
        text=record.get("text") or "",
        outcome=record["outcome"],
        usage=Usage(**usage) if usage else None,
        cost_usd=record.get("cost_usd"),
        cost_source=record.get("cost_source"),
        price=record.get("price"),
        latency_s=record.get("latency_s") or 0.0,
        finish_reason=record.get("finish_reason"),
        attempts=record.get("attempts") or 1,
        error=record.get("error"),
        raw=record.get("raw"),
    )


class ReplayModel:
    """Answers with the stored response of the one model in PATH (or `replay:PATH::MODEL` to pick one)."""

    def __init__(self, spec: str, contract_version: str = "v1") -> None:
        from ..run.store import load_results

        self.name = spec
        path, _, model = spec[len(PREFIX):].partition("::")
        if not path:
            raise ConfigError("replay: needs a results file: replay:PATH (or replay:PATH::MODEL)")
        rows = load_results(Path(path))["rows"]
        models = sorted({r["model"] for r in rows})
        if not model:
            if len(models) != 1:
                raise ConfigError(f"{path} holds {len(models)} models ({', '.join(models)}): use replay:{path}::MODEL")
            model = models[0]
        if model not in models:
            raise ConfigError(f"{path} has no rows of {model!r} (it has {', '.join(models)})")
        self.contract_version = contract_version
        self._stored: dict[tuple[str, int], Response] = {}
        for row in rows:  # only answers: a stored 429 or 5xx says nothing of the model, and is not replayed
            if row["model"] == model and row.get("response") and row["outcome"] in MODEL_OUTCOMES:
                self._stored[(row["prompt_sha256"], row["sample"])] = response_from_record(row["response"])

    def covers(self, prompt: str, harnessed: bool, sample: int = 0) -> bool:
        return self._key(prompt, harnessed, sample) in self._stored

    def answer(self, prompt: str, harnessed: bool, sample: int = 0) -> Response:
        """The response stored for this exact prompt and sample index, whatever order the calls come in. A prompt the
        file never answered is `not_recorded`: an infrastructure outcome, never a model failure."""
        key = self._key(prompt, harnessed, sample)
        if key not in self._stored:
            return Response(text="", outcome="not_recorded", cost_usd=0.0, cost_source="local",
                            error=f"{self.name} holds no reply to this prompt and sample")  # fmt: skip
        return self._stored[key]

    def _key(self, prompt: str, harnessed: bool, sample: int) -> tuple[str, int]:
        from ..run.runner import prompt_sha256

        return prompt_sha256(build_prompt(prompt, harnessed, self.contract_version)), sample
