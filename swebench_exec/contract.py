"""The EXECUTION CONTRACT: the versioned text that asks a model for FILE blocks and a RUN line.

Results record the version and the hash of the text actually sent, so two runs are comparable only when both match.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

CURRENT_VERSION = "v1"


@dataclass(frozen=True)
class Contract:
    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def wrap(self, task_prompt: str) -> str:
        """The harnessed prompt: contract first, then the task as the user wrote it."""
        return f"{self.text.rstrip()}\n\n{task_prompt}"


@lru_cache(maxsize=None)
def load_contract(version: str = CURRENT_VERSION) -> Contract:
    path = files("swebench_exec.harness") / "contract" / f"{version}.txt"
    if not path.is_file():
        raise ValueError(f"unknown contract version {version!r}")
    return Contract(version=version, text=path.read_text(encoding="utf-8"))


def build_prompt(task_prompt: str, harnessed: bool, version: str = CURRENT_VERSION) -> str:
    """One place decides what each arm sends, so the client, the gold model and prompt hashes agree."""
    return load_contract(version).wrap(task_prompt) if harnessed else task_prompt
