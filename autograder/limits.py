"""Per-sandbox limits: data only, so that reading a course's metadata imports no torch."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Per-sandbox limits; units override them in their metadata."""

    call_seconds: float = 10.0
    import_seconds: float = 20.0
    memory_mb: int = 2048
    cpu_seconds: int = 120
    processes: int = 64
    file_mb: int = 64
    scratch_mb: int = 128  # the private /tmp, /var/tmp and /dev/shm, taken out of memory_mb
    output_kb: int = 64
    reply_mb: int = 256
