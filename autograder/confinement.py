"""How the zygote is confined: an allow-list built with bubblewrap.

The zygote, and every sandbox forked from it, sees a filesystem built from
nothing: an empty tmpfs root into which bubblewrap binds, read-only, the
system libraries (``/usr/lib``), the Python runtime the grader itself runs on
(the interpreter's executable, its standard library, its shared libraries'
folder where that is not the system's, and every ``sys.path`` entry that is
part of the runtime: a venv or conda environment wherever it lives, user
site-packages, ``.pth`` and editable-install paths) and the sandbox-side
package ``autograder/sandbox`` on its own. Nothing else is there: no course
file, git history, submission, output folder, home folder or other checkout,
and no installed packages that are not on ``sys.path`` (an interpreter's own
site-packages when a venv replaces it, the system's ``dist-packages``): a
folder that holds such a one is bound entry by entry, without it.
The zygote gets new PID, network, IPC and UTS namespaces, a fixed short
environment, and only the capabilities it needs to give each sandbox its own
namespaces and drop it to ``nobody`` (see ``autograder.sandbox.confine``).

The bubblewrap binary (Debian's ``bubblewrap``, as Flatpak uses it) is the one
piece of confinement code we do not write. Where it is missing or cannot make
namespaces here, ``plan`` says so: ``grade`` then refuses untrusted code
unless told ``--unconfined``, and ``check`` warns that it runs unconfined.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Launch", "ConfinementError", "plan", "runtime_paths", "bwrap_status", "SANDBOX_PACKAGE", "ENVIRONMENT"]

SANDBOX_PACKAGE = Path(__file__).resolve().parent / "sandbox"
_MOUNTED_AS = "/run/torchgrade"  # inside: /run/torchgrade/torchgrade_sandbox
_PACKAGE_NAME = "torchgrade_sandbox"

#: The sandbox's whole environment: never the grader's.
ENVIRONMENT = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    # No GLIBC_TUNABLES=glibc.malloc.hugetlb=1: a heap in 2 MiB pages makes a
    # fork a little cheaper, but on VMs that hand free memory back to the host
    # the zygote's first touch of those pages cost up to a second of start-up
    # (docs/performance.md).
}

_BOOT = (
    "import sys, json; config = json.loads(sys.argv[1]); sys.path[:] = config['path']\n"
    f"from {_PACKAGE_NAME}.zygote import serve\n"
    "serve(int(sys.argv[2]), config)\n"
)


class ConfinementError(RuntimeError):
    """Sandboxes cannot be built here as asked: what is wrong and what to do, in one line."""


@dataclass(frozen=True)
class Launch:
    """How to start a zygote: the command before the fd, and what it got."""

    argv: list[str]
    confined: bool
    reason: str = ""  # why not confined, in words
    runtime: tuple[str, ...] = field(default_factory=tuple)  # the Python folders it reaches, as it sees them

    def command(self, fd: int) -> list[str]:
        return [*self.argv, str(fd)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _in_environment(path: str) -> bool:
    """Whether ``path`` lies in a Python environment (a venv, conda or prefix)."""
    p = Path(path)
    return any((q / "pyvenv.cfg").is_file() or (q / "conda-meta").is_dir() for q in (p, *p.parents))


_SYSTEM_LIBS = ("/usr/lib", "/usr/lib64", "/usr/lib32")  # bound as they are: the C libraries


def _interpreter() -> list[str]:
    """What the interpreter itself needs: its executable, its standard library,
    and the folder of its shared libraries (libpython, and a conda
    environment's others) unless that is the system's. Not its whole prefix:
    under ``/usr`` that would be every program on the host."""
    base = {"base": sys.base_prefix, "installed_base": sys.base_prefix,
            "platbase": sys.base_exec_prefix, "installed_platbase": sys.base_exec_prefix}  # not a venv's  # fmt: skip
    paths = sysconfig.get_paths(vars=base)
    parts = [os.path.realpath(sys.executable), paths["stdlib"], paths["platstdlib"]]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and not any(_inside(os.path.realpath(libdir), lib) for lib in _SYSTEM_LIBS):
        parts.append(libdir)
    return parts


def runtime_paths(protected: list[str] = ()) -> list[str]:
    """The folders (and the executable) the Python runtime needs, as the grader's interpreter sees them.

    The interpreter's own parts, each ``sys.path`` entry that exists, and
    never a folder that holds or lies inside a ``protected`` one (the course,
    the submissions, the output). Inside a protected folder only a Python
    environment is taken (a ``.venv`` in the course checkout).
    """
    here = os.path.realpath(os.getcwd())
    seen: list[str] = []
    # sys.path[0] is the script's folder or the current one: not the runtime
    candidates = [*_interpreter(), *sys.path[1:]]
    guarded = [os.path.realpath(p) for p in protected]
    for entry in candidates:
        if not entry or not os.path.exists(entry):
            continue
        real = os.path.realpath(entry)
        if real == here:
            continue
        if any(_inside(g, real) for g in guarded):
            continue  # it holds the course or the class: never the whole of it
        if any(_inside(real, g) for g in guarded) and not _in_environment(real):
            continue
        if real not in seen:
            seen.append(real)
    # a folder inside another is bound with it
    return [p for p in seen if not any(q != p and _inside(p, q) for q in seen)]


def _sys_path(protected: list[str]) -> list[str]:
    """The zygote's ``sys.path`` (host paths): the grader's, in order, limited to the runtime."""
    runtime = runtime_paths(protected)
    keep = []
    for entry in sys.path[1:]:
        if entry and os.path.exists(entry):
            real = os.path.realpath(entry)
            if any(_inside(real, r) for r in runtime) and real not in keep:
                keep.append(real)
    return keep


# Where installed packages live, as found below a bound folder: by name, at the
# depths Python installs put them (a prefix's lib/pythonX.Y/site-packages,
# Debian's /usr/lib/python3/dist-packages and /usr/local/lib/pythonX.Y/...).
_SITE_PATTERNS = tuple(f"{depth}{name}" for depth in ("", "python*/", "lib*/python*/", "local/lib*/python*/")
                       for name in ("site-packages", "dist-packages"))  # fmt: skip


def _foreign_sites(folders: list[str]) -> list[str]:
    """Package folders below ``folders`` that are no part of the runtime: not on
    ``sys.path`` and holding no entry of it. Nothing there can be imported."""
    on_path = {os.path.realpath(p) for p in sys.path if p}
    found: list[str] = []
    for folder in folders:
        for pattern in _SITE_PATTERNS:
            for path in glob.glob(os.path.join(glob.escape(folder), pattern)):
                if os.path.islink(path) or not os.path.isdir(path):
                    continue
                if not any(_inside(p, path) for p in on_path) and path not in found:
                    found.append(path)
    return found


def _allowed(folder: str, foreign: list[str]) -> list[tuple[str, str | None]]:
    """What of ``folder`` is bound, as (path, link target or None): the folder,
    or where a foreign package folder lies inside it, its entries without that
    one (and so on down). A link stays a link, as it would in the folder."""
    if not any(_inside(f, folder) for f in foreign):
        return [(folder, None)]
    if folder in foreign:
        return []
    entries: list[tuple[str, str | None]] = []
    with os.scandir(folder) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            if entry.is_symlink():
                entries.append((entry.path, os.readlink(entry.path)))
            elif entry.is_dir():
                entries += _allowed(entry.path, foreign)
            else:
                entries.append((entry.path, None))
    return entries


# Each sandbox mounts its own scratch here: runtime folders that lie below are
# bound elsewhere instead, or the scratch would cover them.
_SCRATCH_POINTS = ("/tmp", "/var/tmp", "/dev/shm")


def _placement(runtime: list[str]) -> dict[str, str]:
    """Where each runtime folder is bound inside: at its own path, unless that is under a scratch point."""
    placed = {}
    for i, folder in enumerate(runtime):
        under = any(_inside(folder, p) for p in _SCRATCH_POINTS)
        placed[folder] = f"{_MOUNTED_AS}/runtime/{i}" if under else folder
    exe = os.path.realpath(sys.executable)
    if any(_inside(exe, p) for p in _SCRATCH_POINTS):
        raise ConfinementError(f"the Python interpreter {exe} lies under a temporary folder, where each sandbox mounts "
                               "its own scratch: use a Python, or a venv made with --copies, outside /tmp, /var/tmp and /dev/shm")  # fmt: skip
    return placed


def _inside_path(path: str, placed: dict[str, str]) -> str:
    for folder, dest in placed.items():
        if _inside(path, folder):
            return dest + path[len(folder):]
    return path


@functools.cache
def bwrap_status() -> tuple[str | None, str]:
    """(the bwrap binary, "") where it can confine here, else (None, why not)."""
    binary = shutil.which("bwrap")
    if binary is None:
        return None, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    try:
        probe = subprocess.run(
            [binary, *_namespaces(), "--ro-bind", "/usr", "/usr", *_system_links(), "--proc", "/proc", "--dev", "/dev", "--", "/usr/bin/true"],
            capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bubblewrap could not run here: {exc}"
    if probe.returncode != 0:
        why = probe.stderr.decode(errors="replace").strip()[:300]
        return None, f"bubblewrap cannot make namespaces here ({why}): user namespaces may be disabled"
    return binary, ""


def _namespaces() -> list[str]:
    ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:
        # Real root, capabilities cut to what the zygote needs to confine each
        # sandbox, drop it to nobody and kill it; the sandboxes keep none.
        return [*ns, "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
    # A user's own namespace in which the zygote is uid 0: then it owns the PID
    # namespace bubblewrap makes, and can give each sandbox one of its own
    # (as any other uid, bubblewrap nests a second user namespace, from which
    # the zygote cannot). CAP_SETPCAP only so that each sandbox can empty its
    # bounding set.
    return [*ns, "--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"]


def _system_links() -> list[str]:
    """/lib, /lib64, /bin as on the host: symlinks into /usr, or bound."""
    out: list[str] = []
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            out += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            out += ["--ro-bind", top, top]
    return out


def plan(protected: list[str] = (), cuda: bool = False, scratch: str | None = None, allow_unconfined: bool = True) -> Launch:
    """How to start a zygote for a run; unconfined only where allowed and needed."""
    protected = [str(p) for p in protected]
    path = _sys_path(protected)
    binary, why = bwrap_status()
    exe = os.path.realpath(sys.executable)
    if binary is None:
        if not allow_unconfined:
            raise ConfinementError(why)
        if scratch is None:
            raise RuntimeError("an unconfined zygote needs a scratch folder")
        link = Path(scratch) / "lib"
        link.mkdir(exist_ok=True)
        if not (link / _PACKAGE_NAME).exists():
            (link / _PACKAGE_NAME).symlink_to(SANDBOX_PACKAGE, target_is_directory=True)
        config = {"path": [str(link), *path], "confined": False, "scratch": scratch}
        return Launch([exe, "-I", "-S", "-c", _BOOT, json.dumps(config)], False, why, tuple(path))
    args = [binary, "--die-with-parent", "--new-session", *_namespaces(), "--clearenv"]
    for key, value in ENVIRONMENT.items():
        args += ["--setenv", key, value]
    if cuda and os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        args += ["--setenv", "CUDA_VISIBLE_DEVICES", os.environ["CUDA_VISIBLE_DEVICES"]]
    made: set[str] = set()

    def bind_parents(dest: str) -> None:
        # bubblewrap makes missing parents as private as the host's (/root is
        # 0700): make each one enterable, so the unprivileged sandbox reaches
        # the runtime wherever it lives, however private the folders above it.
        missing = []
        parent = os.path.dirname(dest)
        while parent != "/" and parent not in made:
            made.add(parent)
            missing.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(missing):
            args.extend(["--perms", "0755", "--dir", folder])

    def bind(source: str, dest: str) -> None:
        bind_parents(dest)
        args.extend(["--ro-bind", source, dest])

    def bind_entry(entry: str, link: str | None, dest: str) -> None:
        if link is None:
            bind(entry, dest)
        else:
            bind_parents(dest)
            args.extend(["--symlink", link, dest])

    system = [lib for lib in _SYSTEM_LIBS if os.path.isdir(lib)]
    runtime = runtime_paths(protected)
    foreign = _foreign_sites([*system, *runtime])
    for lib in system:
        for entry, link in _allowed(lib, foreign):
            bind_entry(entry, link, entry)
    args += [*_system_links(), "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/var/tmp"]
    placed = _placement(runtime)
    walked: list[str] = []  # what the runtime probe reads, as the sandbox sees it
    for folder in runtime:
        for entry, link in _allowed(folder, foreign):
            dest = _inside_path(entry, placed)
            if link is None:
                walked.append(dest)
            if not any(_inside(entry, lib) for lib in system):  # else bound with the system's libraries already
                bind_entry(entry, link, dest)
    bind(str(SANDBOX_PACKAGE), f"{_MOUNTED_AS}/{_PACKAGE_NAME}")
    if cuda:  # GPU device nodes only when the run asks for CUDA
        for node in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(node), str(node)]
    args += ["--chdir", "/", "--", exe, "-I", "-S", "-c", _BOOT]
    config = {"path": [_MOUNTED_AS, *(_inside_path(p, placed) for p in path)], "confined": True}
    return Launch([*args, json.dumps(config)], True, "", tuple(walked))
