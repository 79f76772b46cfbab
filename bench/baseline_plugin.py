"""The baseline grader for the benchmark: plain pytest, one process per submission.

It imports the submission directly (no sandbox), as simple graders do, and
gives the same fixtures as torchgrade's plugin, so the same check file runs.
It writes the time spent inside check calls to $BASELINE_TIMES, which the
benchmark takes as the submission's own compute.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
import zlib

import pytest
import torch

_spent = 0.0


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config):
    config.addinivalue_line("markers", "check: a graded check")


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("check")
        metafunc.parametrize("device", ["cpu", *(["meta"] if marker and marker.kwargs.get("meta") else [])])


@pytest.fixture(scope="session")
def student():
    return _load(os.environ["BASELINE_SUBMISSION"], "submission")


@pytest.fixture(scope="session")
def reference():
    return _load(os.environ["BASELINE_REFERENCE"], "reference")


@pytest.fixture
def gen(request):
    return torch.Generator().manual_seed(zlib.crc32(request.node.originalname.encode()))


@pytest.fixture
def sandbox(tmp_path):
    class Direct:  # what checks use of the sandbox, done in-process
        workdir = tmp_path

        @staticmethod
        def make(path, *args, **kwargs):
            module, _, name = path.rpartition(".")
            return getattr(importlib.import_module(module), name)(*args, **kwargs)

    os.chdir(tmp_path)
    return Direct()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    global _spent
    start = time.perf_counter()
    yield
    _spent += time.perf_counter() - start


def pytest_unconfigure(config):
    if os.environ.get("BASELINE_TIMES"):
        with open(os.environ["BASELINE_TIMES"], "w") as fh:
            json.dump({"in_checks": _spent}, fh)
