"""Prove one unit: stub scores 0, solution full, each trap mutant loses exactly its checks.

Usage: python tools/prove.py 01_tensors   (temporary until `torchgrade dev check` lands)
"""
import sys
from pathlib import Path

from autograder.devcheck import prove_unit
from autograder.runner import RunSettings
from autograder.units import load_course

course = load_course(Path(__file__).resolve().parent.parent)
unit = course.unit(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 12345
proof = prove_unit(course, unit, RunSettings(seed=seed))
print("\n".join(proof.lines))
print("PROBLEMS:" if proof.problems else "OK", *proof.problems, sep="\n  ")
