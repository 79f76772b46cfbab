"""torchgrade dev mutants: mutants of the reference, graded by the hidden checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.mutation import make_mutants

FIXTURE = Path(__file__).parent / "fixtures" / "course"


def test_each_operator_makes_the_mistake_it_names():
    source = "import torch\n\ndef f(x, device):\n    y = x.detach().to(device)\n    return y.sum(dim=1, keepdim=True) - 1.5\n"
    made = {m.operator: m.source for m in make_mutants(source)}
    assert '.to("cpu")' in made["device_hardcoded"]
    assert "x.to(device)" in made["detach_removed"]
    assert "y.mean(" in made["sum_mean_swapped"]
    assert "dim=0" in made["dim_changed"]
    assert "+ 1.5" in made["arithmetic_swapped"]
    assert "3.0" in made["constant_scaled"]
    assert all(m.diff.startswith("--- reference") for m in make_mutants(source))


def test_mutants_are_graded_killed_equivalent_or_survived(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)
    made = make_mutants((course / "solutions" / "01_toy" / "toy.py").read_text())
    # scale(x, factor) -> x / factor: marked equivalent here only to show the file's use
    target = next(m.id for m in made if m.function == "scale" and m.operator == "arithmetic_swapped")
    (course / "checks" / "01_toy" / "equivalent.toml").write_text(f'[mutants."{target}"]\nreason = "for the test"\n')
    cmd = [sys.executable, "-m", "autograder", "dev", "mutants", "--json", "--course", str(course), "--seed", "4", "--workers", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    doc = json.loads(done.stdout)
    unit = doc["units"]["01_toy"]
    assert unit["mutants"] == len(made) and unit["equivalent"] == 1
    assert unit["killed"] + unit["equivalent"] + len(unit["survived"]) == unit["mutants"]
    assert unit["killed"] >= 2  # a hard-coded device (caught on fakegpu), a dropped dtype
    for s in unit["survived"]:
        assert s["diff"] and s["id"].count(":") == 2
    assert done.returncode == 1  # fewer than 20 mutants: the toy unit cannot pass the bar


def test_units_at_the_bar_stay_there():
    """CI's share of the mutation run: these units kill at least 95% of their
    non-equivalent mutants, with at least 20 each (the whole course: see the README)."""
    repo = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "autograder", "dev", "mutants", "01_tensors", "02_reshaping", "03_numpy_devices",
           "--json", "--course", str(repo), "--seed", "3"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for name, unit in json.loads(done.stdout)["units"].items():
        assert unit["mutants"] >= 20 and unit["kill_rate"] >= 0.95, (name, unit["survived"])
