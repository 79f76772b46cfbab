"""Stubs teach without answering: no stub text, released hint or released
file holds a line of code that exists only in a reference solution."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.hints import hint_levels
from autograder.release import build_release
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)
_SHORT = 12  # shorter statements (``return x``) are too common to mean anything


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def answer_lines(unit) -> set[str]:
    """The reference's one-line statements that the stub does not have itself, whitespace removed."""
    source = unit.solution.read_text()
    stub = {_flat(line) for line in unit.stub.read_text().splitlines()}
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try, ast.Expr, ast.Import, ast.ImportFrom)):
            code = ast.get_source_segment(source, node)
            if code and "\n" not in code and len(_flat(code)) >= _SHORT and _flat(code) not in stub:
                found.add(_flat(code))
    return found


def spelled_out(answers: set[str], text: str) -> list[str]:
    """The answer lines that ``text`` holds, whitespace aside."""
    flat = _flat(text)
    return sorted(a for a in answers if a in flat)


@pytest.mark.parametrize("unit", COURSE.units, ids=lambda u: u.name)
def test_no_stub_text_or_released_hint_spells_out_the_answer(unit):
    answers = answer_lines(unit)
    assert answers, "the reference has code of its own"
    assert spelled_out(answers, unit.stub.read_text()) == [], "the stub's docstrings or TODOs hold the answer's code"
    for exercise in unit.exercises:
        shipped = _flat(" ".join(hint_levels(unit, exercise.name)[:2]))
        assert sorted(a for a in answers if a in shipped) == [], f"a released hint of {exercise.name} holds the answer's code"


def test_a_release_ships_no_line_that_exists_only_in_a_solution(tmp_path):
    release = build_release(COURSE, tmp_path / "release", list(COURSE.units)).root
    answers = {a for u in COURSE.units for a in answer_lines(u)}
    shipped = [p for p in release.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb", ".toml", ".md", ".txt", ".json")]
    leaks = [(str(p.relative_to(release)), a) for p in shipped for a in answers if a in _flat(p.read_text(errors="replace"))]
    assert leaks == []


def test_the_detector_finds_an_answer_in_a_stub():
    """The check above can fail: a stub whose TODO quotes a line of its reference is caught."""
    unit = COURSE.unit("01_tensors")
    answers = answer_lines(unit)
    line = next(ln.strip() for ln in unit.solution.read_text().splitlines() if _flat(ln.strip()) in answers)
    quoting = unit.stub.read_text().replace('raise NotImplementedError("TODO: ', f'raise NotImplementedError("TODO: {line}; ', 1)
    assert spelled_out(answers, quoting) == [_flat(line)]
