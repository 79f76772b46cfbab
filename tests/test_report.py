"""Reports: the class table stays readable, grades.csv stays importable."""

from __future__ import annotations

from rich.console import Console

from autograder.json_text import lined_json
from autograder.report import class_table


def doc_for(student: str, score: float) -> dict:
    units = [{"name": f"{i:02d}_unit_with_a_long_name", "max_score": 28.0} for i in range(1, 13)]
    row = {"units": {u["name"]: {"score": score, "max_score": 28.0, "problem": None} for u in units}, "total": score * 12}
    return {"seed": 12345678901234567, "devices": ["cpu"], "units": units, "students": {student: row}}


def test_class_table_of_twelve_units_fits_80_columns():
    """Twelve units with two-digit scores and three-digit totals fit an 80-column terminal untruncated."""
    console = Console(width=80, record=True)
    console.print(class_table(doc_for("s1234567", 27.0)))
    text = console.export_text()
    assert "…" not in text and "s1234567" in text and "324" in text


def test_grade_output_to_a_file_is_never_truncated(tmp_path):
    """Piped or logged, the grade table is printed whole, however wide."""
    import subprocess
    import sys

    from tests.test_hostile import FIXTURE, SOLVED

    student = "a.very.long.student.identifier@university.example.org"
    (tmp_path / "subs" / student).mkdir(parents=True)
    (tmp_path / "subs" / student / "toy.py").write_text(SOLVED)
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
         "--course", str(FIXTURE), "--workers", "1", "--seed", "1"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "60"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert student in out.stdout and "…" not in out.stdout


def test_lined_json_reads_back_the_same_with_a_line_per_item():
    """Any document reads back equal; the spread collection, dict or list, has a line per item."""
    import json

    doc = {"a": 1, "tests": [{"x": [1, 2]}, "é\n\"q\"", None], "students": {"s1": {"u": 1.5}, "s\u2028": {}}, "empty": {}}
    for spread in ("tests", "students", "empty", "absent"):
        assert json.loads(lined_json(doc, spread)) == doc
    lines = lined_json(doc, "tests").splitlines()
    assert lines[3:6] == ['  {"x": [1, 2]},', '  "\\u00e9\\n\\"q\\"",', "  null"]
    assert len(lined_json(doc, "students").splitlines()) == len(doc) + 2 + len(doc["students"]) + 1
