"""Late work: deadline, extensions and the penalty rule, shown in the report."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.late import LateError, LatePolicy, parse_time
from tests.test_hostile import FIXTURE, SOLVED

DEADLINE = dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.timezone.utc)


def test_started_days_cost_per_day_up_to_the_cap():
    """Each started day late costs per_day, never more than max_penalty; an extension moves the deadline."""
    policy = LatePolicy(DEADLINE, 0.1, 0.25, {"ext": DEADLINE + dt.timedelta(days=3)})
    at = lambda days: (DEADLINE + dt.timedelta(days=days)).timestamp()  # noqa: E731
    assert policy.assess("a", at(-1)) == (0, 0.0)
    assert policy.assess("a", at(0.01)) == (1, 0.1)
    assert policy.assess("a", at(1.5)) == (2, 0.2)
    assert policy.assess("a", at(9)) == (9, 0.25)
    assert policy.assess("ext", at(2.5)) == (0, 0.0)
    assert policy.assess("a", None) == (0, 0.0)


def test_bad_rules_are_clear_errors():
    with pytest.raises(LateError, match="ISO 8601"):
        parse_time("next friday")
    with pytest.raises(LateError, match="fractions"):
        LatePolicy(DEADLINE, 10, 0.5)


def test_grade_applies_penalties_and_reports_the_rule(tmp_path):
    """A late file loses its penalty; the rule and each late unit are in grades.json and the feedback page."""
    subs = tmp_path / "subs"
    for name in ("early", "late", "ext"):
        (subs / name).mkdir(parents=True)
        path = subs / name / "toy.py"
        path.write_text(SOLVED)
        when = DEADLINE + dt.timedelta(days=-1 if name == "early" else 1.5)
        os.utime(path, (when.timestamp(), when.timestamp()))
    ext = tmp_path / "ext.csv"
    ext.write_text("student,deadline\next,2026-12-05T12:00\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(subs), "--out", str(out), "--course", str(FIXTURE), "--workers", "1",
                                       "--deadline", "2026-11-30T23:59", "--extensions", str(ext), "--late-per-day", "25"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "grades.json").read_text())
    assert doc["late_policy"]["per_day"] == 0.25 and "per started day" in doc["late_policy"]["rule"]
    units = {s: doc["students"][s]["units"]["01_toy"] for s in ("early", "late", "ext")}
    assert units["early"]["score"] == 4 and "late" not in units["early"]
    assert units["late"]["score"] == 2 and units["late"]["late"] == {"days": 2, "penalty": 0.5, "score_before": 4.0,
                                                                     "due": "2026-11-30T23:59:00+00:00"}
    assert units["ext"]["score"] == 4
    assert "day(s) after the deadline" in (out / "feedback" / "late.html").read_text()
