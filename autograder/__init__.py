"""torchgrade: auto-graded PyTorch exercises with sandboxed, device-aware checks."""

from autograder.checks import (
    CheckFailure,
    TrapHit,
    as_tensor,
    check,
    describe,
    expect_close,
    expect_tensor,
    expect_value,
    fail,
    tolerance,
    trap,
)
from autograder.probes import gradients_through, shares_memory
from autograder.sandbox.protocol import TensorFacts, facts
from autograder.remote import Limits, Remote, Sandbox, SandboxError

__version__ = "0.1.0"

__all__ = [
    "CheckFailure",
    "Limits",
    "Remote",
    "Sandbox",
    "SandboxError",
    "TensorFacts",
    "TrapHit",
    "as_tensor",
    "check",
    "describe",
    "expect_close",
    "expect_tensor",
    "expect_value",
    "facts",
    "fail",
    "gradients_through",
    "tolerance",
    "shares_memory",
    "trap",
]
