"""The course on disk: units, their metadata, stubs, solutions and checks.

A course root holds ``assignments/<unit>/`` (the stub module, ``unit.toml``
and the public checks ``check_public.py``), ``solutions/<unit>/`` (the
reference module, same file name) and ``checks/<unit>/check_hidden.py`` (the
hidden checks, never released). Everything about a unit that is not code
(title, order, exercises, points, hints, concepts, traps, limits) is data in
``unit.toml``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from autograder.limits import Limits

__all__ = ["Course", "Unit", "Exercise", "Trap", "UnitError", "find_course"]

HIDDEN_CHECKS = "check_hidden.py"
PUBLIC_CHECKS = "check_public.py"


class UnitError(Exception):
    """A unit's files or metadata are broken; the message says how to fix it."""


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    points: float
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class Trap:
    id: str
    title: str
    explain: str
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    name: str  # the folder name, e.g. "01_tensors"
    title: str
    order: int
    module: str  # the module's name, e.g. "tensors" for tensors.py
    exercises: tuple[Exercise, ...]
    traps: dict[str, Trap]
    limits: Limits
    root: Path = field(repr=False)

    @property
    def filename(self) -> str:
        return self.module + ".py"

    @property
    def stub(self) -> Path:
        return self.root / "assignments" / self.name / self.filename

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / self.name / self.filename

    @property
    def hidden_checks(self) -> Path:
        return self.root / "checks" / self.name / HIDDEN_CHECKS

    @property
    def public_checks(self) -> Path:
        return self.root / "assignments" / self.name / PUBLIC_CHECKS

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise(self, name: str) -> Exercise:
        for ex in self.exercises:
            if ex.name == name:
                return ex
        raise UnitError(f"{self.name}: no exercise named {name!r} in unit.toml")


@dataclass(frozen=True)
class Course:
    root: Path
    units: tuple[Unit, ...]
    broken: dict[str, str] = field(default_factory=dict)  # unit folder -> why it cannot load

    def unit(self, name: str) -> Unit:
        """A unit by folder name, number (``4``, ``04``) or module name."""
        for u in self.units:
            if name in (u.name, u.module, u.name.split("_", 1)[0]) or name.lstrip("0") == str(u.order):
                return u
        for folder, why in self.broken.items():
            if name in (folder, folder.split("_", 1)[0]):
                raise UnitError(why)
        known = ", ".join(u.name for u in self.units)
        raise UnitError(f"no unit named {name!r}; the units are: {known}")

    def select(self, names: list[str] | None) -> list[Unit]:
        """The units named (all when none are), refusing to go on over a broken one."""
        if names:
            return [self.unit(n) for n in names]
        if self.broken:
            raise UnitError("some units cannot be loaded:\n" + "\n".join(self.broken.values()))
        return list(self.units)

    def for_file(self, filename: str) -> Unit | None:
        """The unit whose module a submitted file is (``tensors.py`` or ``tensors.ipynb``)."""
        stem = Path(filename).stem
        return next((u for u in self.units if u.module == stem), None)


def find_course(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that has ``assignments/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir():
            return folder
    raise UnitError(f"no course found: neither {here} nor a folder above it has an assignments/ folder; pass --course PATH")


def load_course(root: Path) -> Course:
    folder = root / "assignments"
    if not folder.is_dir():
        raise UnitError(f"{root} has no assignments/ folder")
    units, broken = [], {}
    for d in sorted(folder.iterdir()):
        if (d / "unit.toml").is_file():
            try:
                units.append(load_unit(root, d.name))
            except UnitError as exc:  # one broken unit must not hide the others
                broken[d.name] = str(exc)
    units.sort(key=lambda u: (u.order, u.name))
    return Course(root, tuple(units), broken)


def load_unit(root: Path, name: str) -> Unit:
    path = root / "assignments" / name / "unit.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UnitError(f"{path}: cannot read the unit's metadata: {exc}") from None
    where = f"{path}"
    try:
        exercises = tuple(
            Exercise(
                name=e["name"],
                title=e["title"],
                points=float(e["points"]),
                concepts=tuple(e.get("concepts", ())),
            )
            for e in data["exercises"]
        )
        legacy = [e["name"] for e in data["exercises"] if "hint" in e]
        if legacy:
            raise UnitError(f"{where}: exercises {legacy} have a 'hint': hints now come in levels (autograder/hints.py); "
                            "write hints = [level 1, level 2] to replace the made ones, and level-3 notes in "
                            f"checks/{name}/hints.toml")  # fmt: skip
        traps = {
            tid: Trap(id=tid, title=t["title"], explain=t["explain"], concepts=tuple(t.get("concepts", ())))
            for tid, t in data.get("traps", {}).items()
        }
        known = {f.name for f in fields(Limits)}
        extra = set(data.get("limits", {})) - known
        if extra:
            raise UnitError(f"{where}: unknown limits {sorted(extra)}; known: {sorted(known)}")
        unit = Unit(
            name=name,
            title=data["title"],
            order=int(data["order"]),
            module=data["module"],
            exercises=exercises,
            traps=traps,
            limits=Limits(**data.get("limits", {})),
            root=root,
        )
    except KeyError as exc:
        raise UnitError(f"{where}: missing key {exc}") from None
    if len({e.name for e in exercises}) != len(exercises):
        raise UnitError(f"{where}: two exercises share a name")
    return unit


def warm_extras(units) -> tuple[str, ...]:
    """What a zygote should import before its first sandbox for ``units``
    (``sandbox.zygote.EXTRA_IMPORTS``), read off their references' and hidden
    checks' code: ``optimizers`` where it names ``optim`` (an optimizer's
    constructor imports dynamo), ``autograd`` where it backpropagates with a
    given gradient (``gradient=``, ``grad_outputs=``, ``gradients_through``:
    torch imports sympy for that). A speed hint only:
    a sandbox that needs a module its zygote has not imported imports it."""
    return _extras(set().union(*(_names(path) for u in units for path in (u.solution, u.hidden_checks))))


def trusted_extras(units) -> tuple[str, ...]:
    """The same for the grader's own process: what its checks need, read off
    the hidden checks' code, and off the reference's where they call it
    (the ``reference`` fixture). Imported while the zygote imports its own,
    not at the first check that needs it. A speed hint only."""
    found: set[str] = set()
    for u in units:
        checks = _names(u.hidden_checks)
        found |= checks | (_names(u.solution) if "reference" in checks else frozenset())
    return _extras(found)


def _extras(names: set[str] | frozenset[str]) -> tuple[str, ...]:
    extras = []
    if "optim" in names:
        extras.append("optimizers")
    if names & {"gradient", "grad_outputs", "gradients_through"}:
        extras.append("autograd")
    return tuple(extras)


def _names(path: Path) -> frozenset[str]:
    """The names in a Python file's code; read once per version of the file (each grading session asks)."""
    try:
        st = path.stat()
    except OSError:
        return frozenset()
    return _names_in(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _names_in(path: Path, mtime_ns: int, size: int) -> frozenset[str]:
    import io
    import tokenize

    try:
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        return frozenset(t.string for t in tokens if t.type == tokenize.NAME)
    except (OSError, UnicodeDecodeError, SyntaxError, tokenize.TokenError):
        return frozenset()  # loading the file reports what is wrong with it
