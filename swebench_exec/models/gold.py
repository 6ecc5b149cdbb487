"""The built-in `gold` model: answers every prompt it knows with the reference solution, no key, no network.

It validates the pipeline end to end: gold must execute perfectly on both arms, while its bare-arm replies (plain
markdown, as a helpful human would write them) score low on format. That is the Format Scorer Trap in miniature.
"""
from __future__ import annotations

from .base import Response


def harnessed_reply(files: dict[str, str], run: str | None) -> str:
    blocks = [f"FILE: {path}\n```{_fence_info(path)}\n{content.rstrip(chr(10))}\n```" for path, content in files.items()]
    return "\n\n".join(blocks) + (f"\nRUN: {run}\n" if run else "\n")


def bare_reply(files: dict[str, str], run: str | None) -> str:
    parts = ["Here is a solution."]
    for path, content in files.items():
        parts.append(f"`{path}`:\n\n```{_fence_info(path)}\n{content.rstrip(chr(10))}\n```")
    if run:
        parts.append(f"Run it with:\n\n```bash\n{run}\n```")
    return "\n\n".join(parts) + "\n"


def _fence_info(path: str) -> str:
    return {".py": "python", ".md": "markdown", ".json": "json", ".sh": "bash"}.get(path[path.rfind("."):], "")


class GoldModel:
    """Maps each known task prompt to its reference files. Unknown prompts get an empty answer (a model outcome)."""

    name = "gold"

    def __init__(self, answers: dict[str, tuple[dict[str, str], str | None]]) -> None:
        self._answers = answers  # task prompt -> (files, run command)

    @classmethod
    def for_tasks(cls, tasks: list[dict]) -> "GoldModel":
        """Every task needs a reference: a task gold cannot answer would look like a model failure."""
        missing = [t["id"] for t in tasks if not t.get("reference")]
        if missing:
            from .endpoints import ConfigError

            raise ConfigError(f"gold needs a 'reference' solution in every task; missing in: {', '.join(missing)}")
        return cls({t["prompt"]: (t["reference"], t.get("run", f"python {t['expected_files'][0]}")) for t in tasks})

    def answer(self, prompt: str, harnessed: bool, sample: int = 0) -> Response:
        known = self._answers.get(prompt)
        if known is None:
            return Response(text="", outcome="empty_answer", cost_usd=0.0, cost_source="local",
                            error="gold has no reference for this prompt")
        files, run = known
        text = harnessed_reply(files, run) if harnessed else bare_reply(files, run)
        return Response(text=text, outcome="ok", cost_usd=0.0, cost_source="local")
