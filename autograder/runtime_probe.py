"""Before any submission: prove that a sandbox reaches the whole Python runtime.

A grader must never score silently on a broken sandbox: if an unprivileged,
confined sandbox cannot read part of the runtime (a venv under a private
folder, a file without read permission for others), correct code fails a
lazy ``import`` deep inside torch and loses points without a word. So each
worker runs one probe sandbox first; any failure stops the run, naming what
is unreadable and what to do.
"""

from __future__ import annotations

import dataclasses

from autograder.remote import Limits, Sandbox, SandboxError
from autograder.zygote import Zygote

__all__ = ["RuntimeUnreachable", "LAZY_IMPORTS", "prove_runtime"]


class RuntimeUnreachable(SandboxError):
    """The sandbox cannot reach the Python runtime: grading would be silently wrong."""


#: Modules torch imports lazily during checks (torch.save, optimizers, data):
#: a sandbox that cannot import them would fail correct code.
LAZY_IMPORTS = ("torch.utils.serialization", "torch.optim", "torch.utils.data", "torch.nn.functional", "numpy.linalg")


def prove_runtime(zygote: Zygote, limits: Limits = Limits()) -> dict:
    """Before any submission: show that a sandbox reaches all of the runtime.

    A sandbox, confined and unprivileged as any submission's, walks every
    runtime folder for files it cannot read and imports the modules torch
    loads lazily. Any failure raises ``RuntimeUnreachable`` naming the path.
    """
    box = Sandbox(zygote, b"", "probe", limits=dataclasses.replace(limits, call_seconds=120))
    try:
        found = box.ask("probing the runtime", {"op": "probe", "roots": list(zygote.launch.runtime), "modules": list(LAZY_IMPORTS)})
    except SandboxError as exc:
        raise RuntimeUnreachable(f"the sandbox could not start or probe the Python runtime: {exc}") from None
    finally:
        box.close()
    if not isinstance(found, dict):
        raise RuntimeUnreachable("the runtime probe sent back no report")
    unreadable, failed = found.get("unreadable", []), found.get("failed", {})
    if unreadable or failed:
        lines = [f"the sandbox (user id {found.get('uid')}) cannot reach all of the Python runtime, so correct code would lose points:"]
        lines += [f"  cannot read {p}" for p in unreadable[:5]]
        lines += [f"  import {m} fails: {why}" for m, why in list(failed.items())[:5]]
        lines.append("make the environment readable by all users (chmod -R a+rX PATH), or install it where others can read it; "
                     "nothing was graded")  # fmt: skip
        raise RuntimeUnreachable("\n".join(lines))
    return found
