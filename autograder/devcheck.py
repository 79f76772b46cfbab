"""``torchgrade dev check``: prove that a unit grades what it should.

For each unit: the untouched stub scores zero, the reference solution scores
full marks, and every trap mutant (``checks/<unit>/traps/<trap>.py`` appended
to the solution) fails exactly the checks aimed at that trap, each naming it,
and passes every other check. Metadata must agree with the checks: every
exercise and trap has a check, and each exercise's points are the sum of its
checks' points.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from autograder.jobs import Job
from autograder.runner import private_tempdir, RunSettings, run_jobs
from autograder.scoring import score
from autograder.units import Course, Unit

__all__ = ["Proof", "prove_unit", "declared_checks", "mutants"]


@dataclass
class Proof:
    unit: str
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def declared_checks(path: Path) -> dict[str, dict]:
    """``{function: {exercise, points, traps}}`` read from a check file's decorators (no import)."""
    tree = ast.parse(path.read_text(), str(path))
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "id", getattr(dec.func, "attr", "")) == "check":
                args = [ast.literal_eval(a) for a in dec.args]
                kw = {k.arg: ast.literal_eval(k.value) for k in dec.keywords}
                found[node.name] = {
                    "exercise": kw.get("exercise", args[0] if args else None),
                    "points": float(kw.get("points", args[1] if len(args) > 1 else 0)),
                    "traps": tuple(kw.get("traps", ())),
                }
    return found


def mutants(unit: Unit) -> dict[str, Path]:
    folder = unit.hidden_checks.parent / "traps"
    return {p.stem: p for p in sorted(folder.glob("*.py"))} if folder.is_dir() else {}


def _metadata_problems(unit: Unit, checks: dict[str, dict]) -> list[str]:
    problems = []
    for ex in unit.exercises:
        got = sum(c["points"] for c in checks.values() if c["exercise"] == ex.name)
        if not any(c["exercise"] == ex.name for c in checks.values()):
            problems.append(f"exercise {ex.name} has no hidden check")
        elif abs(got - ex.points) > 1e-9:
            problems.append(f"exercise {ex.name} is worth {ex.points:g} in unit.toml but its checks add up to {got:g}")
    names = {e.name for e in unit.exercises}
    for fn, c in checks.items():
        if c["exercise"] not in names:
            problems.append(f"check {fn} names exercise {c['exercise']!r}, which unit.toml does not list")
        for t in c["traps"]:
            if t not in unit.traps:
                problems.append(f"check {fn} names trap {t!r}, which unit.toml does not list")
    aimed = {t for c in checks.values() for t in c["traps"]}
    found = mutants(unit)
    for t in unit.traps:
        if t not in aimed:
            problems.append(f"trap {t} has no check aimed at it")
        if t not in found:
            problems.append(f"trap {t} has no mutant at checks/{unit.name}/traps/{t}.py")
    return problems


def prove_unit(course: Course, unit: Unit, settings: RunSettings) -> Proof:
    proof = Proof(unit.name)
    checks = declared_checks(unit.hidden_checks)
    proof.problems += _metadata_problems(unit, checks)
    with private_tempdir("dev") as tmp:
        subjects: dict[str, Path] = {"stub": unit.stub, "solution": unit.solution}
        for trap, path in mutants(unit).items():
            composed = Path(tmp) / f"trap-{trap}" / unit.filename
            composed.parent.mkdir()
            composed.write_text(unit.solution.read_text() + "\n\n# --- trap mutant ---\n" + path.read_text())
            subjects[f"trap-{trap}"] = composed
        jobs = [Job(name, unit, path) for name, path in subjects.items()]
        scores = score(jobs, run_jobs(course, jobs, settings))
    full = unit.max_score
    for name, by_unit in scores.items():
        s = by_unit[unit.name]
        failed = {row["id"].split("::")[1] for row in s.checks if row["status"] != "passed"}
        proof.lines.append(f"{name:28} {s.score:g}/{s.max_score:g}")
        if name == "stub" and s.score != 0:
            passed = sorted({row["id"] for row in s.checks if row["status"] == "passed"})
            proof.problems.append(f"the stub scores {s.score:g}, not 0: {passed} pass on it")
        elif name == "solution" and (s.score != full or failed):
            bad = [f"{r['id']} [{r['device']}]: {r['message']}" for r in s.checks if r["status"] != "passed"]
            proof.problems.append(f"the solution scores {s.score:g}/{full:g}: " + "; ".join(bad))
        elif name.startswith("trap-"):
            trap = name.removeprefix("trap-")
            aimed = {fn for fn, c in checks.items() if trap in c["traps"]}
            if failed != aimed:
                proof.problems.append(f"{name} should fail exactly {sorted(aimed)}, but fails {sorted(failed)}")
            for row in s.checks:
                fn = row["id"].split("::")[1]
                if fn in aimed and row["status"] != "passed" and row["trap"] != trap:
                    proof.problems.append(f"{name}: {fn} failed without naming the trap: {row['message']}")
    return proof
