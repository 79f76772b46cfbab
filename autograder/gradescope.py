"""Gradescope: results.json per student, and the autograder zip.

Gradescope runs ``/autograder/run_autograder`` with the student's files in
``/autograder/submission/`` and reads ``/autograder/results/results.json``
(``score``, ``execution_time``, ``output``, ``output_format``,
``test_output_format``, ``tests[]`` with ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility``). Outputs are
Markdown; the hidden checks' tests are ``after_published`` unless a unit's
``unit.toml`` says otherwise (``[gradescope] visibility = "visible"``). The zip
carries the whole course (hidden checks and solutions included: Gradescope
keeps the autograder private) under ``source/``, a ``setup.sh`` that installs
it, and a ``run_autograder`` that grades with ``torchgrade gradescope run``.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

from autograder.json_text import lined_json
from autograder.release import tool_pyproject
from autograder.scoring import runs_by_check
from autograder.units import Course, Unit

__all__ = ["results_json", "write_results", "build_zip", "visibility", "VISIBILITIES"]

#: Gradescope's visibilities; checks default to after_published (students see
#: them once grades are published), a missing file is always visible.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_VISIBILITY = "after_published"


def visibility(units: list[Unit]) -> dict[str, str]:
    """``{unit: visibility}`` of the units' checks, from ``[gradescope] visibility`` in unit.toml."""
    import tomllib

    from autograder.units import UnitError

    out = {}
    for unit in units:
        meta = tomllib.loads(unit.stub.with_name("unit.toml").read_text()).get("gradescope", {})
        value = meta.get("visibility", DEFAULT_VISIBILITY)
        if value not in VISIBILITIES:
            raise UnitError(f"{unit.name}/unit.toml: [gradescope] visibility is {value!r}; use one of {', '.join(VISIBILITIES)}")
        out[unit.name] = value
    return out


def _fenced(text: str) -> str:
    """Text as a Markdown code block that nothing in it can close."""
    fence = "~~~~" if "```" in text else "```"
    while fence in text:
        fence += fence[0]
    return f"{fence}\n{text}\n{fence}"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built.
set -euo pipefail
# bubblewrap confines the submission inside the container where the image allows it
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) || echo "bubblewrap not installed"
cd /autograder/source
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install torch -e .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission. AUTOGRADER_ROOT and
# TORCHGRADE_PYTHON let a test run it in a scratch copy of the layout.
set -euo pipefail
root="${{AUTOGRADER_ROOT:-/autograder}}"
python="${{TORCHGRADE_PYTHON:-$root/venv/bin/python}}"
mkdir -p "$root/results"
exec "$python" -m autograder gradescope run --course "$root/source" \\
    --submission "$root/submission" --results "$root/results/results.json" --units {units}
"""


def results_json(doc: dict, student: str, seconds: float | None = None, visible: dict[str, str] | None = None) -> dict:
    """One student's grades in Gradescope's results.json format (a test per check).

    ``seconds``: the run's time; by default the time the student's checks took.
    """
    row = doc["students"][student]
    visible = visible or {}
    if seconds is None:
        seconds = sum(c.get("seconds", 0.0) for u in row["units"].values() for c in u["checks"])
    tests = []
    for unit_name, unit in row["units"].items():
        for check_id, runs in runs_by_check(unit["checks"]).items():
            passed = all(c["status"] == "passed" for c in runs)
            lines = sorted({f"[{c['device']}] {c['status']}: {c['message']}" for c in runs if c["status"] != "passed"})
            tests.append({
                "name": f"{unit_name} · {runs[0]['exercise']} · {check_id.split('::', 1)[-1]}",
                "score": round(sum(c["points"] for c in runs), 6),
                "max_score": round(sum(c["max_points"] for c in runs), 6),
                "status": "passed" if passed else "failed",
                "output": _fenced("\n".join(lines)) if lines else "",
                "visibility": visible.get(unit_name, DEFAULT_VISIBILITY),
            })  # fmt: skip
        if unit["problem"]:
            tests.append({"name": f"{unit_name} · file", "score": 0, "max_score": 0, "status": "failed",
                          "output": _fenced(unit["problem"]), "visibility": "visible"})  # fmt: skip
    # Intake notes name other students: a student's own results carry only
    # theirs, and the engine's warnings (which name no one).
    mine = [n for n in doc["notes"] if n.startswith((f"{student}:", f"{student}/", "warning:"))]
    notes = [f"seed {doc['seed']}", doc["cuda"], *mine]
    return {
        "score": row["total"],
        "execution_time": round(seconds, 3),
        "output": _fenced("\n".join(notes)),
        "output_format": "md",
        "test_output_format": "md",
        "tests": tests,
    }


def write_results(doc: dict, out: Path, visible: dict[str, str] | None = None) -> list[Path]:
    """``out/<student>/results.json`` for every student."""
    paths = []
    for student in doc["students"]:
        path = out / student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lined_json(results_json(doc, student, visible=visible), "tests"))
        paths.append(path)
    return paths


def build_zip(course: Course, units: list[Unit], out: Path) -> Path:
    """The Gradescope autograder zip for ``units``: setup.sh, run_autograder, source/."""
    out.parent.mkdir(parents=True, exist_ok=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".torchgrade", ".venv")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", SETUP_SH)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.format(units=",".join(u.name for u in units)))
        _add_text(zf, "source/pyproject.toml", tool_pyproject(), mode=0o644)
        _add_text(zf, "source/README.md", "The torchgrade autograder for this assignment.\n", mode=0o644)
        sources = [Path(__file__).resolve().parent]
        for unit in units:
            sources += [unit.stub.parent, unit.solution.parent, unit.hidden_checks.parent]
        for src in sources:
            rel = "autograder" if src == Path(__file__).resolve().parent else src.relative_to(course.root).as_posix()
            if src.is_file():
                zf.write(src, f"source/{rel}")
                continue
            for path in sorted(src.rglob("*")):
                if path.is_file() and not skip(str(path.parent), [path.name]) and "__pycache__" not in path.parts:
                    zf.write(path, f"source/{rel}/{path.relative_to(src).as_posix()}")
    return out


def _add_text(zf: zipfile.ZipFile, name: str, text: str, mode: int = 0o755) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | mode) << 16  # scripts executable, as Gradescope expects
    zf.writestr(info, text)
