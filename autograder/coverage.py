"""The coverage table: every curriculum concept and trap, and what checks it.

Made from data only (``curriculum.toml``, each ``unit.toml`` and the
``@check`` decorators of the hidden checks, read without importing them), so
it cannot drift from the units; ``torchgrade dev coverage`` writes it to
``docs/coverage.md`` and a test fails when that file is stale or a concept
or trap has no check.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from autograder.devcheck import declared_checks
from autograder.units import Course

__all__ = ["Coverage", "coverage"]

CURRICULUM = "curriculum.toml"


@dataclass(frozen=True)
class Coverage:
    markdown: str
    problems: list[str]


def _cell(items: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "**none**"


def coverage(course: Course) -> Coverage:
    wanted = tomllib.loads((course.root / CURRICULUM).read_text()).get("units", {})
    lines = [
        "# Curriculum coverage",
        "",
        "Made by `torchgrade dev coverage` from `curriculum.toml`, the units' `unit.toml`",
        "and their hidden checks; do not edit by hand.",
        "",
    ]
    problems: list[str] = []
    units = {u.name: u for u in course.units}
    for name in sorted(set(wanted) | set(units)):
        unit = units.get(name)
        if unit is None:
            lines += [f"## {name}", "", "*Not written yet.*", ""]
            continue
        want = wanted.get(unit.name, {"concepts": {}, "traps": {}})
        checks = declared_checks(unit.hidden_checks) if unit.hidden_checks.is_file() else {}
        lines += [f"## {unit.name}: {unit.title}", "", "| concept | what | exercises | hidden checks |", "| --- | --- | --- | --- |"]
        for cid, text in want.get("concepts", {}).items():
            exercises = [e.name for e in unit.exercises if cid in e.concepts]
            hits = [fn for fn, c in checks.items() if c["exercise"] in exercises]
            if not hits:
                problems.append(f"{unit.name}: concept {cid} ({text}) has no check")
            lines.append(f"| {cid} | {text} | {_cell(exercises)} | {_cell(hits)} |")
        lines += ["", "| trap | what | checks aimed at it |", "| --- | --- | --- |"]
        traps = dict(want.get("traps", {}))
        traps.update({t.id: t.title for t in unit.traps.values() if t.id not in traps})
        for tid, text in traps.items():
            hits = [fn for fn, c in checks.items() if tid in c["traps"]]
            if not hits:
                problems.append(f"{unit.name}: trap {tid} ({text}) has no check")
            lines.append(f"| `{tid}` | {text} | {_cell(hits)} |")
        lines.append("")
    return Coverage("\n".join(lines), problems)
