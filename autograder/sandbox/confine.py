"""What a freshly forked sandbox does to itself before any student code runs.

The zygote was started inside bubblewrap (see the trusted side's
``autograder.confinement``): its root is an empty tmpfs holding only the Python
runtime read-only, a minimal ``/dev``, no network and none of the host's
environment. Each sandbox forked from it then takes, for itself alone:

- its own PID namespace (made by the zygote) with its own ``/proc``;
- its own network and IPC namespaces, so no loopback, abstract socket or SysV
  shared memory is in common with another sandbox;
- a private tmpfs for ``/tmp``, ``/var/tmp`` and ``/dev/shm``, capped in size
  and taken out of the memory budget; it vanishes with the sandbox;
- resource limits, no core dumps, no new privileges, and no capabilities
  (root drops to ``nobody``).

Unconfined (no bubblewrap: only for a learner's own code, or when the
instructor says so), a sandbox gets its limits and a scratch folder of its own
that the zygote removes, and nothing else.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal

__all__ = ["enter", "new_pid_namespace", "NOBODY", "WORKDIR"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP = 38, 24
NOBODY = 65534
SCRATCH = "/tmp"
WORKDIR = "/tmp/work"  # the submission's folder, inside its private scratch

_OWN_PID_NS: list[int] = []


class ConfinementError(Exception):
    """A step of confinement failed: the sandbox must not run student code."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _ok(result: int, what: str) -> None:
    if result != 0:
        raise ConfinementError(f"{what}: {os.strerror(ctypes.get_errno())}")


def new_pid_namespace() -> bool:
    """In the zygote: make the next child PID 1 of a new PID namespace.

    A process may create a namespace for its children only while that setting
    still points at its own namespace, so it is reset first.
    """
    libc = _libc()
    if not _OWN_PID_NS:
        try:
            _OWN_PID_NS.append(os.open("/proc/self/ns/pid", os.O_RDONLY))
        except OSError:
            return False
    if libc.setns(_OWN_PID_NS[0], _CLONE_NEWPID) != 0:
        return False
    return libc.unshare(_CLONE_NEWPID) == 0


def enter(spec: dict, pid_namespace: bool) -> list[str]:
    """Confine this process as ``spec`` says; return the isolation that holds."""
    for fd in _OWN_PID_NS:
        os.close(fd)
    os.setsid()
    held = ["pid"] if pid_namespace else []
    scratch_mb = spec["limits"]["scratch_mb"]
    if spec["confined"]:
        libc = _libc()
        _ok(libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC), "new namespaces")
        _ok(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "private mounts")
        owner = f",uid={NOBODY},gid={NOBODY}" if _can_become_nobody() else ""
        opts = f"size={scratch_mb}m,nr_inodes=4096,mode=0700{owner}".encode()
        _ok(libc.mount(b"tmpfs", SCRATCH.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts), "private /tmp")
        for also in (b"/var/tmp", b"/dev/shm"):
            _ok(libc.mount(SCRATCH.encode(), also, None, _MS_BIND, None), f"private {also.decode()}")
        if pid_namespace:
            flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            _ok(libc.mount(b"proc", b"/proc", b"proc", flags, None), "own /proc")
        held += ["network", "files", "ipc"]
    _limits(spec)
    _drop_privileges(spec["confined"], spec["limits"]["processes"])
    if spec["confined"]:
        os.mkdir(WORKDIR, 0o700)  # as the sandbox user, in its own scratch
        os.chdir(WORKDIR)
    else:
        os.chdir(spec["workdir"])
    return held


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _vm() -> dict[str, int]:
    """This process's memory figures (VmSize, VmData...) in bytes."""
    found = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Vm"):
                name, _, value = line.partition(":")
                found[name] = int(value.split()[0]) * 1024
    return found


def _limits(spec: dict) -> None:
    limits = spec["limits"]
    # The private tmpfs lives in memory: what it may hold comes out of the budget.
    budget = max(64, limits["memory_mb"] - limits["scratch_mb"]) << 20
    vm = _vm()
    _limit(resource.RLIMIT_DATA, vm.get("VmData", 0) + budget)
    if not spec.get("cuda"):
        # CUDA reserves huge address ranges, so the address-space cap is CPU-only.
        _limit(resource.RLIMIT_AS, vm.get("VmSize", 0) + budget + (512 << 20))
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"])
    _limit(resource.RLIMIT_FSIZE, limits["file_mb"] << 20)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 256)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, not kills


def _drop_privileges(confined: bool, processes: int) -> None:
    libc = _libc()
    if confined and _can_become_nobody():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)  # leaves no capability behind
    elif confined:
        _drop_capabilities(libc)
    _ok(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")
    # RLIMIT_NPROC counts every process of the user, threads included, and
    # binds no root: it is set once the server runs as somebody else.
    running = sum(1 for p in os.listdir("/proc") if p.isdigit() and _owned(p))
    _limit(resource.RLIMIT_NPROC, running + processes)


def _can_become_nobody() -> bool:
    """Real root, with every user id mapped; not the uid 0 of a user's own
    namespace (the grader run by someone else), where only that uid exists."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as fh:
            ranges = [tuple(int(v) for v in line.split()) for line in fh if line.strip()]
    except OSError:
        return False
    return any(inside <= NOBODY < inside + count for inside, _, count in ranges)


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """Drop every capability, bounding set included (inside a user
    namespace, where the uid stays the grader's: an exec regains nothing)."""
    for cap in range(64):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last cap: fine
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all zero
    _ok(libc.capset(header, data), "drop capabilities")


def _owned(pid: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}").st_uid == os.getuid()
    except OSError:
        return False
