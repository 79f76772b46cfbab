"""Scores from check results.

A check earns its points only where it passed on every device it ran on.
Each (check, device) row carries an equal share of the check's points, so the
rows of a unit add up to its score.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the type only: scores are read without the engine (and torch)
    from autograder.jobs import Job

__all__ = ["UnitScore", "score", "runs_by_check"]


@dataclass
class UnitScore:
    student: str
    unit: str
    score: float
    max_score: float
    problem: str  # why the file was not graded, or ""
    checks: list[dict] = field(default_factory=list)
    late: dict | None = None  # days, penalty and the score before it, when handed in late
    notes: list[str] = field(default_factory=list)  # what was skipped of the file (a notebook's cells), in words
    worker: str | None = None  # the cluster worker that graded it (and its CUDA part), when a cluster did

    def as_dict(self) -> dict:
        out = {"score": self.score, "max_score": self.max_score, "problem": self.problem or None, "checks": self.checks}
        return (out | ({"late": self.late} if self.late else {}) | ({"notes": self.notes} if self.notes else {})
                | ({"worker": self.worker} if self.worker else {}))


def score(jobs: list[Job], results: list[dict]) -> dict[str, dict[str, UnitScore]]:
    """``{student: {unit: UnitScore}}`` for every job, results or not."""
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    notes: dict[tuple[str, str], list[str]] = defaultdict(list)
    problems: dict[tuple[str, str], str] = {}
    for r in results:
        if r.get("kind") == "check":
            rows[(r["student"], r["unit"])].append(r)
        elif r.get("kind") == "note":
            notes[(r["student"], r["unit"])].append(r["text"])
        elif r.get("kind") == "problem":  # graded 0 by the run itself (a cluster job that failed twice)
            problems[(r["student"], r["unit"])] = r["text"]
    out: dict[str, dict[str, UnitScore]] = defaultdict(dict)
    for job in jobs:
        key = (job.student, job.unit.name)
        # Graded 0 by the run: no part of it counts, whatever another part earned.
        got = [] if key in problems else rows.get(key, [])
        out[job.student][job.unit.name] = unit = _unit_score(job, got)
        unit.notes = [*job.notes, *notes.get(key, [])]
        unit.problem = problems.get(key, unit.problem)
        unit.worker = _workers(rows.get(key, []))
    return dict(out)


def _workers(rows: list[dict]) -> str | None:
    """Who graded a unit: one worker, or the CPU part's and then the CUDA part's."""
    cpu = next((r["worker"] for r in rows if r.get("worker") and r["device"] != "cuda"), None)
    gpu = next((r["worker"] for r in rows if r.get("worker") and r["device"] == "cuda"), None)
    if gpu and cpu and gpu != cpu:
        return f"{cpu} (cuda: {gpu})"
    return cpu or gpu


def runs_by_check(rows: list[dict]) -> dict[str, list[dict]]:
    """A unit's check rows in grades.json (one per device), grouped by check id, in order."""
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["id"], []).append(row)
    return out


def _unit_score(job: Job, rows: list[dict]) -> UnitScore:
    by_check: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_check[r["check"]].append(r)
    total = maximum = 0.0
    checks = []
    for name, runs in by_check.items():
        points = runs[0]["max_points"]
        earned = points if all(r["status"] == "passed" for r in runs) else 0.0
        total += earned
        maximum += points
        share = 1.0 / len(runs)
        for r in sorted(runs, key=lambda r: r["device"]):
            checks.append(
                {
                    "id": f"{job.unit.name}::{name}",
                    "exercise": r["exercise"],
                    "device": r["device"],
                    "points": round(earned * share, 6),
                    "max_points": round(points * share, 6),
                    "status": r["status"],
                    "message": r["message"],
                    "trap": r["trap"],
                    "seconds": r.get("seconds", 0.0),
                }
            )
    return UnitScore(job.student, job.unit.name, round(total, 6), round(maximum, 6), job.problem, checks)
