"""The job matrix: one job is one model x task x arm x sample, and becomes one row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .summary import ARMS


@dataclass(frozen=True)
class Job:
    model: str
    task_id: str
    arm: str
    sample: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.model, self.task_id, self.arm, self.sample)

    @property
    def harnessed(self) -> bool:
        return self.arm == "harnessed"


def job_matrix(models: list[str], task_ids: list[str], samples: int, arms: tuple[str, ...] = ARMS) -> Iterator[Job]:
    """Interleave models so a slow or stopped model does not hold the others back."""
    for task_id in task_ids:
        for sample in range(samples):
            for arm in arms:
                for model in models:
                    yield Job(model, task_id, arm, sample)
