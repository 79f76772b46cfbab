"""What can go wrong in a sandbox, as the trusted side says it: each failure is
a ``SandboxError`` whose ``status`` a check row takes and whose message says
what happened, in words a student can act on."""

from __future__ import annotations

import signal

__all__ = [
    "SandboxError",
    "StudentError",
    "MissingAttribute",
    "NoLength",
    "SandboxTimeout",
    "SandboxCrashed",
    "ImportFailed",
    "describe_exit",
]


class SandboxError(Exception):
    """Something went wrong on the sandbox side; ``status`` is the check status."""

    status = "error"


class StudentError(SandboxError):
    """The submission's code raised an exception."""

    def __init__(self, where: str, error: dict) -> None:
        self.type = str(error.get("type", "Exception"))
        self.detail = str(error.get("message", ""))
        self.traceback = str(error.get("traceback", ""))
        super().__init__(f"{where} raised {self.type}: {self.detail}".rstrip(": "))


class MissingAttribute(StudentError, AttributeError):
    """The sandbox object has no such attribute; an AttributeError, so that
    ``hasattr`` and ``dict(remote)`` behave as they do on local objects."""


class NoLength(StudentError, TypeError):
    """The sandbox object has no ``len()``; a TypeError, so ``list(remote)`` iterates instead."""


class SandboxTimeout(SandboxError):
    status = "timeout"


class SandboxCrashed(SandboxError):
    pass


class ImportFailed(SandboxError):
    """The submission could not be loaded; every check of it fails."""

    def __init__(self, cause: SandboxError) -> None:
        self.status = cause.status
        super().__init__(f"your file could not be loaded: {cause}")


_SIGNALS = {
    signal.SIGKILL: "was killed (SIGKILL), usually for running out of memory",
    signal.SIGSEGV: "crashed with a segmentation fault",
    signal.SIGBUS: "crashed with a bus error",
    signal.SIGABRT: "aborted",
    signal.SIGXCPU: "used up its CPU-time limit",
    signal.SIGFPE: "crashed with a floating-point exception",
}


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code in (70, 71):  # sandbox.SETUP_FAILED / SERVER_FAILED
        return f"could not be set up (internal error {code}; run with TORCHGRADE_DEBUG_SANDBOX=1 for details)"
    if code < 0:
        sig = signal.Signals(-code)
        return _SIGNALS.get(sig, f"was ended by signal {sig.name}")
    return f"exited with status {code} (does your code call sys.exit() or os._exit()?)"
