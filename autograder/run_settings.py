"""What a grading run is told besides its jobs: ``RunSettings``, defined once, and ``GradingError``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["RunSettings", "GradingError", "Which"]

Which = Literal["hidden", "public", "auto"]


class GradingError(Exception):
    """The run itself cannot go on (bad settings, broken checks): say why."""


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs besides the jobs; defaults live here only."""

    devices: tuple[str, ...] = ("cpu",)
    seed: int = 0
    workers: int = 1
    which: Which = "auto"
    # Folders no sandbox may reach, whatever sys.path says (the class, the output).
    protected: tuple[str, ...] = field(default_factory=tuple)
    # Run submissions without bubblewrap where it cannot be had: for a
    # learner's own code, or when an instructor says so (--unconfined).
    allow_unconfined: bool = False
    # Only these exercises' checks (a learner's watch on the current one); all when empty.
    exercises: tuple[str, ...] = ()
    # A Dask scheduler's address: grade on that cluster (autograder.cluster) instead of here.
    scheduler: str | None = None
    # Only the checks on these devices (a cluster task's CPU or CUDA part); all when empty.
    only_devices: tuple[str, ...] = ()
