"""Which parts of the runtime the zygote's filesystem gets: what is on ``sys.path``, not what is installed.

``test_what_a_sandbox_sees`` looks from inside a real sandbox on this host;
here a made-up interpreter prefix shows the rule on every layout: a package
folder that nothing on ``sys.path`` reaches is left out by binding its
neighbours one by one, never by binding the whole and covering it.
"""

from __future__ import annotations

import os
import sys

import pytest

from autograder import confinement


@pytest.fixture
def prefix(tmp_path, monkeypatch):
    """An interpreter's prefix whose own site-packages a venv replaces on sys.path."""
    root = tmp_path / "prefix"
    stdlib = root / "lib" / "python3.11"
    for folder in ("bin", "include", stdlib / "json", stdlib / "lib-dynload", stdlib / "site-packages" / "globaltool"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for file in ("bin/python3.11", "lib/libpython3.11.so.1.0", "lib/python3.11/os.py"):
        (root / file).write_text("")
    (root / "bin" / "python3").symlink_to("python3.11")
    (stdlib / "tool.py").symlink_to(stdlib / "site-packages" / "globaltool")  # a link into what is left out
    venv = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    venv.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", ["", str(stdlib), str(stdlib / "lib-dynload"), str(venv)])
    return root, stdlib, venv


def test_a_site_packages_off_the_path_is_foreign_and_its_neighbours_are_bound_one_by_one(prefix):
    root, stdlib, venv = prefix
    foreign = confinement._foreign_sites([str(root), str(venv)])
    assert foreign == [str(stdlib / "site-packages")]
    assert confinement._allowed(str(venv), foreign) == [(str(venv), None)]  # on the path: whole
    assert [path for path, _ in confinement._allowed(str(root), foreign)] == [
        str(root / "bin"), str(root / "include"), str(root / "lib" / "libpython3.11.so.1.0"),
        str(stdlib / "json"), str(stdlib / "lib-dynload"), str(stdlib / "os.py"), str(stdlib / "tool.py"),
    ]  # fmt: skip


def test_a_site_packages_that_holds_a_path_entry_is_kept(prefix):
    """An egg or editable path inside an interpreter's site-packages makes it part of the runtime."""
    root, stdlib, venv = prefix
    egg = stdlib / "site-packages" / "thing.egg"
    egg.mkdir()
    sys.path.append(str(egg))
    assert confinement._foreign_sites([str(root), str(venv)]) == []


def test_the_zygote_gets_links_as_links_and_nothing_of_the_foreign_folder(prefix, monkeypatch):
    root, stdlib, venv = prefix
    if confinement.bwrap_status()[0] is None:
        pytest.skip("needs bubblewrap")
    monkeypatch.setattr(confinement, "runtime_paths", lambda protected=(): [str(root), str(venv)])
    launch = confinement.plan([])
    argv = launch.argv
    bound = {argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"}
    assert not any(b.startswith(str(stdlib / "site-packages")) for b in bound)
    linked = {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a == "--symlink"}
    assert {str(stdlib / "os.py"), str(stdlib / "json"), str(root / "bin"), str(venv)} <= bound
    # A link keeps its target as written: into the foreign folder it leads nowhere.
    # (Under /tmp, as here, the runtime is placed elsewhere inside: compare the ends.)
    assert [d for d, target in linked.items() if target == os.readlink(stdlib / "tool.py")][0].endswith("/python3.11/tool.py")
    assert str(stdlib / "tool.py") not in bound
    # The runtime probe reads what is bound, links aside.
    assert any(r.endswith("/python3.11/os.py") for r in launch.runtime)
    assert not any(r.endswith("/python3.11/tool.py") for r in launch.runtime)


def test_an_interpreter_under_usr_brings_its_executable_not_every_program(monkeypatch, tmp_path):
    """Debian's Python has /usr for its prefix: the runtime is its executable
    and its standard library (its shared libraries are the system's), never
    /usr or /usr/bin."""
    import sysconfig

    venv = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    venv.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3.11")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    monkeypatch.setattr(sys, "base_exec_prefix", "/usr")
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: "/usr/lib/x86_64-linux-gnu" if name == "LIBDIR" else None)
    stdlib = sysconfig.get_paths(vars={"installed_base": "/usr", "base": "/usr"})["stdlib"]
    assert confinement._interpreter()[:2] == [os.path.realpath("/usr/bin/python3.11"), stdlib]
    assert "/usr/lib/x86_64-linux-gnu" not in confinement._interpreter()  # bound as the system's libraries
    monkeypatch.setattr(sys, "path", ["", stdlib, str(venv)])
    found = confinement.runtime_paths([])
    assert not any(p in ("/usr", "/usr/bin", "/usr/local") for p in found)
