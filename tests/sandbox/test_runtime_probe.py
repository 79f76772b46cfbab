"""What the runtime probe walks: every folder a sandbox can import from.

The probe itself runs in a sandbox as the sandbox user
(``tests/test_private_runtime.py`` runs it end to end on a private venv);
here ``os.access`` is played so that the walk can be seen without one.
"""

from __future__ import annotations

import os
import sys

from autograder.sandbox import server


def _runtime(root):
    """An interpreter's prefix with its own site-packages inside the standard
    library, and a venv's site-packages beside it."""
    stdlib = root / "prefix" / "lib" / "python3.11"
    (stdlib / "json").mkdir(parents=True)
    (stdlib / "json" / "deny_me.py").write_text("")
    (stdlib / "site-packages" / "globaltool").mkdir(parents=True)
    (stdlib / "site-packages" / "globaltool" / "deny_me.py").write_text("")
    venv = root / "venv" / "site-packages"
    (venv / "pkg").mkdir(parents=True)
    (venv / "pkg" / "deny_me.py").write_text("")
    return stdlib, venv


def _probe(monkeypatch, roots, path):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: "deny_me" not in str(p) and real(p, mode))
    monkeypatch.setattr(sys, "path", [str(p) for p in path])
    return server._probe([str(r) for r in roots], [])["unreadable"]


def test_what_can_be_imported_is_walked_and_a_shadowed_site_packages_is_not(monkeypatch, tmp_path):
    """A venv replaces its interpreter's site-packages on sys.path: nothing there
    can be imported, so nothing there can cost a student points."""
    stdlib, venv = _runtime(tmp_path)
    found = _probe(monkeypatch, [tmp_path / "prefix", venv], [stdlib, venv])
    assert sorted(found) == [str(stdlib / "json" / "deny_me.py"), str(venv / "pkg" / "deny_me.py")]


def test_the_interpreters_own_site_packages_is_walked_where_it_is_on_the_path(monkeypatch, tmp_path):
    """Without a venv, the interpreter's site-packages is where torch lives."""
    stdlib, venv = _runtime(tmp_path)
    found = _probe(monkeypatch, [tmp_path / "prefix"], [stdlib, stdlib / "site-packages"])
    assert str(stdlib / "site-packages" / "globaltool" / "deny_me.py") in found


def test_a_link_out_of_the_runtime_is_unreadable_but_sites_hooks_are_not_asked_for(monkeypatch, tmp_path):
    """Debian's sitecustomize.py links into /etc, which a sandbox does not
    have; only ``site`` imports it, and sandboxes run without site. Any other
    link that leads nowhere is a part of the runtime the sandbox cannot read."""
    stdlib, venv = _runtime(tmp_path)
    (stdlib / "sitecustomize.py").symlink_to(tmp_path / "etc" / "sitecustomize.py")
    (stdlib / "lost.py").symlink_to(tmp_path / "elsewhere" / "lost.py")
    (stdlib / "lost_folder").symlink_to(tmp_path / "elsewhere" / "folder")
    found = _probe(monkeypatch, [stdlib], [stdlib])
    assert sorted(found) == [str(stdlib / "json" / "deny_me.py"), str(stdlib / "lost.py")]
