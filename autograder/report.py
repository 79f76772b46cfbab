"""Grade documents and their renderings: grades.json, grades.csv, tables.

``grades_document`` is the one structure every output is made from; its
schema is the one in ``design.md`` (per student and unit: ``score``,
``max_score`` and per check ``id``, ``device``, ``points``, ``max_points``,
``status``, ``message``).
"""

from __future__ import annotations

import csv
import datetime as dt
import platform
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from autograder.json_text import lined_json
from autograder.scoring import UnitScore
from autograder.units import Unit

__all__ = ["grades_document", "write_grades", "class_table", "unit_table", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow", "skipped": "dim"}


def grades_document(
    scores: dict[str, dict[str, UnitScore]],
    units: list[Unit],
    *,
    seed: int,
    devices: tuple[str, ...],
    cuda: str,
    notes: list[str] = (),
) -> dict:
    from autograder import __version__

    students = {}
    for student in sorted(scores):
        per_unit = {u.name: scores[student][u.name].as_dict() for u in units if u.name in scores[student]}
        students[student] = {
            "total": round(sum(s["score"] for s in per_unit.values()), 6),
            "max_total": round(sum(s["max_score"] for s in per_unit.values()), 6),
            "units": per_unit,
        }
    return {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "devices": list(devices),
        "cuda": cuda,
        "versions": {"torchgrade": __version__, "torch": _torch_version(), "python": platform.python_version()},
        "units": [{"name": u.name, "title": u.title, "max_score": u.max_score} for u in units],
        "notes": list(notes),
        "students": students,
    }


def write_grades(doc: dict, out: Path) -> tuple[Path, Path]:
    """Write ``grades.json`` and ``grades.csv`` (a row per student, a column per unit, the total)."""
    out.mkdir(parents=True, exist_ok=True)
    js, cs = out / "grades.json", out / "grades.csv"
    js.write_text(lined_json(doc, "students"))
    names = [u["name"] for u in doc["units"]]
    with cs.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *names, "total", "max_total"])
        for student, row in doc["students"].items():
            cells = [_fmt(row["units"][n]["score"]) if n in row["units"] else "" for n in names]
            w.writerow([student, *cells, _fmt(row["total"]), _fmt(row["max_total"])])
    return js, cs


def _fmt(x: float) -> str:
    return f"{x:g}"


def class_table(doc: dict) -> Table:
    names = [u["name"] for u in doc["units"]]
    # Units are headed by their number, with a key below and the maximum
    # scores in the first row, so that twelve units fit 80 columns.
    key = "  ".join(f"{n.split('_', 1)[0]} {n.split('_', 1)[-1]}" for n in names) + "  (- no file graded: see grades.json)"
    table = Table(title=f"Grades (seed {doc['seed']}, devices {', '.join(doc['devices'])})", caption=key, padding=(0, 1))
    table.add_column("student", no_wrap=True)
    for n in names:
        table.add_column(n.split("_", 1)[0], justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    most = sum(u["max_score"] for u in doc["units"])
    table.add_row("[dim]max[/]", *(f"[dim]{u['max_score']:g}[/]" for u in doc["units"]), f"[dim]{most:g}[/]", end_section=True)
    for student, row in doc["students"].items():
        cells = []
        for n in names:
            s = row["units"].get(n)
            if s is None:
                cells.append("")
            elif s["problem"]:
                cells.append("[magenta]-[/]")
            else:
                colour = "green" if s["score"] == s["max_score"] else "red" if s["score"] == 0 else "yellow"
                cells.append(f"[{colour}]{s['score']:g}[/]")
        table.add_row(student, *cells, f"{row['total']:g}")
    return table


def unit_table(unit: Unit, score: UnitScore) -> Table:
    """Per exercise: status, points, and the messages of what failed."""
    table = Table(title=f"{unit.name}: {unit.title}  [{score.score:g}/{score.max_score:g}]", show_lines=True)
    table.add_column("exercise")
    table.add_column("points", justify="right")
    table.add_column("result")
    for ex in unit.exercises:
        rows = [r for r in score.checks if r["exercise"] == ex.name]
        got, most = sum(r["points"] for r in rows), sum(r["max_points"] for r in rows)
        bad = [r for r in rows if r["status"] != "passed"]
        if not rows:
            table.add_row(f"{ex.name}\n[dim]{escape(ex.title)}[/]", "-", "[dim]no check for it here (the hidden checks grade it)[/]")
            continue
        if not bad:
            result = "[green]passed[/]"
        else:
            seen = []
            for r in bad:
                line = f"[{_STATUS_STYLE[r['status']]}]{r['status']}[/] {escape('[' + r['device'] + ']')} {escape(r['message'])}"
                if line not in seen:
                    seen.append(line)
            result = "\n".join(seen[:3]) + f"\n[dim]hint: torchgrade hint {unit.name} {ex.name}[/]"
        table.add_row(f"{ex.name}\n[dim]{escape(ex.title)}[/]", f"{got:g}/{most:g}", result)
    return table


def _torch_version() -> str:
    import torch

    return torch.__version__
