"""torchgrade: auto-graded PyTorch exercises with sandboxed, device-aware checks."""

# The check API, loaded on first use (PEP 562): importing a light part of the
# package (the command line's --help, list or hint) must not import torch.
_EXPORTS = {
    "autograder.checks": ("CheckFailure", "TrapHit", "as_tensor", "check", "describe", "expect_close",
                          "expect_tensor", "expect_value", "fail", "tolerance", "trap"),
    "autograder.probes": ("gradients_through", "shares_memory"),
    "autograder.sandbox.decoding": ("TensorFacts", "facts"),
    "autograder.remote": ("Remote", "Sandbox", "SandboxError"),
    "autograder.limits": ("Limits",),
}  # fmt: skip
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext autograder`` in a notebook: ``%check`` and ``%unit``."""
    from autograder.notebook_magic import load_ipython_extension as load

    load(ipython)


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
