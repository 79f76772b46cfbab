"""A sandbox starts in one request (``load``) whose reply lists the module's
functions as handles; that list is checked like any other reply.

A submission runs inside the sandbox's server while it is imported, so it can
rewrite what the server sends back: here it forges the list of functions. The
forgery costs that student the unit (the file is "not loaded") and no one
else anything.
"""

from __future__ import annotations

import textwrap

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED


def _forging(functions: str) -> str:
    return SOLVED + "\n\n" + textwrap.dedent(f"""
        import sys as _sys
        _proto = next(m for n, m in list(_sys.modules.items()) if n.endswith("sandbox.protocol"))
        _real = _proto.send_frame

        def _forged(sock, header, blobs=(), deadline=None):
            if "functions" in header:
                header = dict(header, functions={functions})
            return _real(sock, header, blobs, deadline)

        _proto.send_frame = _forged
    """)


FORGERIES = {
    # a handle with no usable id, for a function the checks call
    "bad_handle": _forging('{"make_zeros": {"t": "handle", "id": "nine"}}'),
    # more functions than any module's first entries hold
    "endless_list": _forging('{f"f{i}": {"t": "handle", "id": i, "mro": ["builtins.function"], "callable": True} for i in range(100_000)}'),
    # not a mapping at all
    "not_a_dict": _forging('["make_zeros"]'),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("forged")
    for name, source in {**FORGERIES, "honest": SOLVED}.items():
        (root / "subs" / name).mkdir(parents=True)
        (root / "subs" / name / "toy.py").write_text(source)
    course = load_course(FIXTURE)
    done = grade_class(course, root / "subs", root / "out", list(course.units), RunSettings(seed=5, workers=2))
    return done.document["students"]


@pytest.mark.parametrize("student", sorted(FORGERIES))
def test_a_forged_list_of_functions_is_refused(graded, student):
    unit = graded[student]["units"]["01_toy"]
    assert unit["score"] == 0
    assert all("breaks the protocol" in c["message"] and c["status"] == "error" for c in unit["checks"]), unit["checks"]


def test_the_rest_of_the_class_is_graded(graded):
    assert graded["honest"]["total"] == 4
