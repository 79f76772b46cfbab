"""What a sandboxed submission can see and touch: only what it needs.

Each test runs a submission that looks around from inside, in a real
confined sandbox, and asserts on what it found. The course, its git history,
the solutions and checks, other checkouts, the grader's environment and
command line, another sandbox's scratch files and sockets: none of it.
"""

from __future__ import annotations

import os
import sysconfig
import textwrap
from pathlib import Path

import pytest

from autograder.confinement import bwrap_status, plan
from autograder.remote import Limits, Sandbox
from autograder.runtime_probe import prove_runtime
from autograder.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(bwrap_status()[0] is None and not os.environ.get("CI"), reason="needs bubblewrap")

LOOK = textwrap.dedent(
    """
    import os, socket

    def listing(path):
        try:
            return sorted(os.listdir(path))
        except OSError as exc:
            return type(exc).__name__

    def can_read(path):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            return True
        except OSError:
            return False

    def failing_imports(names):
        import importlib
        failed = []
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
        return failed

    def exists(path):
        return os.path.lexists(path)

    def environment():
        return dict(os.environ)

    def processes():
        return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())

    def cmdline(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return fh.read().decode(errors="replace")
        except OSError as exc:
            return type(exc).__name__

    def find(names):
        hits = []
        for top, dirs, files in os.walk("/"):
            if top.startswith(("/proc", "/sys", "/dev")):
                dirs[:] = []
                continue
            hits += [os.path.join(top, n) for n in dirs + files if n in names]
        return hits

    def leave(name, text):
        for folder in ("/tmp", "/var/tmp", "/dev/shm", "."):
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(text)
        return True

    def found(name):
        return [folder for folder in ("/tmp", "/var/tmp", "/dev/shm", ".") if os.path.exists(os.path.join(folder, name))]

    def flood_shm(mb):
        chunk = b"x" * (1 << 20)
        written = 0
        try:
            with open("/dev/shm/flood", "wb") as fh:
                for _ in range(mb):
                    fh.write(chunk)
                    written += 1
        except OSError as exc:
            return [written, type(exc).__name__]
        return [written, None]

    def listen(name):
        global server
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind("\\0" + name)
        server.listen()
        return True

    def connect(name):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect("\\0" + name)
            return "connected"
        except OSError as exc:
            return type(exc).__name__

    def interfaces():
        return sorted(name for _, name in socket.if_nameindex())

    def plant():
        os.mkfifo("data.csv")
        os.symlink("/etc/hostname", "link.csv")
        os.mkdir("folder.csv")
        return sorted(os.listdir("."))

    def read(name):
        with open(name, "rb") as fh:
            return fh.read()

    def whoami():
        return [os.getuid(), os.getgid(), os.getcwd()]

    def descriptors():
        kinds = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                kinds[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        return kinds
    """
)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(plan([str(ROOT)], allow_unconfined=False))
    yield z
    z.close()


@pytest.fixture
def make_box(zygote, tmp_path):
    boxes = []

    def make():
        path = tmp_path / f"look{len(boxes)}.py"
        path.write_text(LOOK)
        box = Sandbox(zygote, path, "look", limits=Limits(call_seconds=30))
        boxes.append(box)
        return box.module

    yield make
    for b in boxes:
        b.close()


def test_no_course_file_git_history_or_other_checkout_is_reachable(make_box, tmp_path):
    """The filesystem is built from nothing: the course tree is not there at all."""
    look = make_box()
    assert look.listing(str(ROOT)) in ("FileNotFoundError", [".venv"])  # at most the runtime inside it
    for path in ("solutions/01_tensors/tensors.py", "checks/01_tensors/check_hidden.py", ".git/HEAD", "README.md", "demo"):
        assert look.can_read(str(ROOT / path)) is False, path
    assert look.find(["check_hidden.py", "solutions", ".git", "tensors.py", "demo"]) == []
    assert look.can_read(str(tmp_path / "look0.py")) is False  # not even its own original
    assert look.listing("/root") in ("FileNotFoundError", [".pyenv"], [".cache"])
    assert look.can_read("/etc/passwd") is False and look.can_read("/etc/shadow") is False


def _off_the_path() -> list[str]:
    """Package folders of this host that nothing on the grader's sys.path reaches."""
    import glob
    import sys

    on_path = {os.path.realpath(p) for p in sys.path if p}
    candidates = {os.path.realpath(p) for p in (
        *glob.glob(f"{sys.base_prefix}/lib*/python*/*-packages"), *glob.glob("/usr/lib/python*/*-packages"),
        *glob.glob("/usr/local/lib/python*/*-packages"),
    )}  # fmt: skip
    return sorted(c for c in candidates if os.path.isdir(c) and not any(p == c or p.startswith(c + "/") for p in on_path))


def test_no_installed_package_off_the_grader_sys_path_is_there(make_box):
    """Allow-list: an interpreter's own site-packages that a venv replaces, or
    the system's dist-packages, is no part of the runtime. The folder holding
    it is bound entry by entry without it, never bound whole and covered."""
    foreign = _off_the_path()
    if not foreign:
        pytest.skip("every package folder of this host is on sys.path")
    look = make_box()
    for folder in foreign:
        assert look.exists(folder) is False, folder
    stdlib = os.path.realpath(sysconfig.get_path("stdlib"))
    listed = look.listing(stdlib)
    assert "os.py" in listed and "lib-dynload" in listed  # the folder that held the interpreter's own is there
    if os.path.join(stdlib, "site-packages") in foreign:
        assert "site-packages" not in listed
    # What is on the path still works, C extensions and the libraries they load included.
    assert look.failing_imports(["json", "sqlite3", "ctypes", "decimal", "ssl", "lzma", "torch", "numpy"]) == []


def test_every_standard_module_that_imports_here_imports_in_the_sandbox(make_box):
    """The interpreter is bound piece by piece (executable, standard library,
    its shared libraries), not as its whole prefix: every C extension of the
    standard library that the grader can import, a sandbox can too."""
    import importlib
    import sys
    import warnings

    dynload = Path(next(p for p in sys.path if p.endswith("lib-dynload")))
    names = sorted({p.name.split(".")[0] for p in dynload.glob("*.so")} - {"_testcapi", "_testinternalcapi", "_testmultiphase", "_ctypes_test", "xxlimited", "xxlimited_35", "_xxtestfuzz", "_testbuffer", "_testclinic", "_testimportmultiple", "_testsinglephase", "xxsubtype"})
    here = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # audioop, nis... (3.13 drops them)
        for name in names:
            try:
                importlib.import_module(name)
                here.append(name)
            except Exception:  # noqa: BLE001 - not built for this host: not asked of the sandbox either
                pass
    assert len(here) > 20
    assert make_box().failing_imports(here) == []


def test_no_program_of_the_host_is_there(make_box):
    """Only the interpreter's own executable: no compiler, shell or tool of the
    host to run (an interpreter under /usr once brought all of /usr/bin)."""
    import sys

    look = make_box()
    exe = os.path.realpath(sys.executable)
    assert look.listing(os.path.dirname(exe)) == [os.path.basename(exe)]
    for program in ("/usr/bin/gcc", "/usr/bin/c++", "/usr/bin/curl", "/bin/sh", "/usr/bin/env"):
        assert look.exists(program) is False, program


def test_no_sys_at_all(make_box):
    """No /sys: no device, cgroup or kernel setting of the host."""
    assert make_box().exists("/sys") is False


def test_no_descriptor_of_the_zygote_or_another_worker(zygote, tmp_path):
    """A zygote shared by several workers hands its sandboxes none of its
    channels: only the sandbox's own socket and /dev/null are open. With a
    channel, a submission could ask the zygote to fork or kill sandboxes."""
    channels = [zygote.channel() for _ in range(3)]
    try:
        path = tmp_path / "look.py"
        path.write_text(LOOK)
        box = Sandbox(channels[1], path, "look", limits=Limits(call_seconds=30))
        try:
            fds = box.module.descriptors()
        finally:
            box.close()
    finally:
        for channel in channels:
            channel.close()
    sockets = [fd for fd, what in fds.items() if what.startswith("socket:")]
    assert len(sockets) == 1, fds  # its own, to the trusted side
    assert {what for fd, what in fds.items() if fd in (0, 1, 2)} == {"/dev/null"}
    assert not [what for what in fds.values() if what.startswith("anon_inode:[eventpoll]")], fds


def test_environment_is_a_short_fixed_list(make_box):
    """Nothing of the grader's environment reaches the sandbox."""
    from autograder.confinement import ENVIRONMENT

    look = make_box()
    env = look.environment()
    # PWD comes from bubblewrap's --chdir, the rest from torch's own import inside
    made_inside = {"PWD", "LC_CTYPE", "TORCHINDUCTOR_CACHE_DIR"}
    assert set(env) - made_inside <= set(ENVIRONMENT)
    assert os.environ.get("PYTEST_CURRENT_TEST") and "PYTEST_CURRENT_TEST" not in env


def test_own_pid_namespace_and_proc(make_box):
    """The sandbox sees only its own processes: not the grader's command line or seed."""
    look = make_box()
    assert look.processes() == [1]
    assert "pytest" not in look.cmdline(1) and "python" in look.cmdline(1)
    assert look.whoami()[:2] == [65534, 65534] or os.geteuid() != 0


def test_scratch_is_private_and_gone_with_the_sandbox(make_box):
    """/tmp, /var/tmp, /dev/shm and the working folder are the sandbox's own."""
    first = make_box()
    assert first.leave("note.txt", "secret") is True
    assert sorted(first.found("note.txt")) == [".", "/dev/shm", "/tmp", "/var/tmp"]
    second = make_box()
    assert second.found("note.txt") == []


def test_dev_shm_is_capped(make_box):
    """/dev/shm is the private scratch, capped: it cannot hold a gigabyte outside the limits."""
    written, error = make_box().flood_shm(1024)
    assert error == "OSError" and written <= Limits().scratch_mb


def test_no_socket_in_common_with_another_sandbox(make_box):
    """Abstract unix sockets live per network namespace: another sandbox cannot reach them."""
    a, b = make_box(), make_box()
    assert a.listen("torchgrade-test") is True
    assert a.connect("torchgrade-test") == "connected"
    assert b.connect("torchgrade-test") == "ConnectionRefusedError"
    assert b.interfaces() == ["lo"]


def test_files_handed_over_replace_planted_links_and_fifos(make_box):
    """A FIFO or a link the submission left under a data file's name neither stalls
    the hand-over nor redirects it: the file is written fresh, by the sandbox."""
    from autograder.remote import SandboxError

    look = make_box()
    box = look._sandbox
    assert "data.csv" in look.plant()
    box.put_file("data.csv", b"1,2,3\n")
    box.put_file("link.csv", b"4,5\n")
    assert look.read("data.csv") == b"1,2,3\n" and look.read("link.csv") == b"4,5\n"
    with pytest.raises(SandboxError):
        box.put_file("folder.csv", b"x")  # a folder is not silently replaced
    with pytest.raises(SandboxError):
        box.put_file("../escape.csv", b"x")


def test_runtime_probe_passes_here(zygote):
    """The start-up proof: an unprivileged sandbox reads the whole runtime here."""
    found = prove_runtime(zygote)
    assert found["unreadable"] == [] and found["failed"] == {}
