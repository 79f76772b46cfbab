"""Hints in three levels, each a step closer to the answer.

1. the concept the exercise practises and where to read about it: the
   curriculum's words for its concepts and the unit's reading;
2. the API names to use: those the reference calls, and what comes back
   (the contract's ``Returns``);
3. a near-complete sketch with blanks: the reference's own statements with
   every value and argument blanked (``___``), and the author's note.

Levels 1 and 2 (or any written in ``unit.toml`` as ``hints = [...]``) ship
in a release; level 3 only if the instructor asks (``release --hint-levels
3``), since a sketch is nearly the answer. Each is made from the course's
own data, so a hint can never drift from the solution it points to. A
release carries its levels baked into ``unit.toml`` (``[released_hints]``),
having no solutions or curriculum to make them from.
"""

from __future__ import annotations

import ast
import json
import tomllib

from autograder.units import Unit

__all__ = ["LEVELS", "hint_levels", "practises", "released_hints_toml", "sketch"]

LEVELS = 3
CURRICULUM = "curriculum.toml"
NOTES = "hints.toml"  # checks/<unit>/hints.toml: the author's level-3 notes, never released
_BLANK = "___"
# Calls too plain to be worth naming as an API to use.
_PLAIN = {"len", "range", "float", "int", "tuple", "list", "dict", "zip", "enumerate", "isinstance", "super", "print",
          "min", "max", "sum", "abs", "round", "sorted", "str", "bool", "type", "iter", "next", "getattr", "setattr"}  # fmt: skip


def hint_levels(unit: Unit, exercise: str) -> list[str]:
    """The exercise's hints, level 1 first (as many as this course can make)."""
    meta = tomllib.loads(unit.stub.with_name("unit.toml").read_text())
    released = meta.get("released_hints", {}).get(exercise)
    if released is not None:  # a student release: what the instructor shipped
        return [str(h) for h in released][:LEVELS]
    written = next((e.get("hints", []) for e in meta.get("exercises", []) if e.get("name") == exercise), [])
    node = _reference(unit, exercise)
    made = [_concepts(unit, exercise, meta), _apis(node, unit, exercise), _sketch_level(unit, exercise, node)]
    levels = [str(written[i]) if i < len(written) and written[i] else made[i] for i in range(LEVELS)]
    while levels and not levels[-1]:  # a level keeps its number: only missing top levels go
        levels.pop()
    return levels


def released_hints_toml(unit: Unit, levels: int) -> str:
    """The ``[released_hints]`` table a release appends to the unit's ``unit.toml``."""
    lines = ["", "# Hints shipped with this release (torchgrade release --hint-levels).", "[released_hints]"]
    for exercise in unit.exercises:
        # JSON strings are TOML basic strings: the same escapes
        shipped = hint_levels(unit, exercise.name)[:levels]
        lines.append(f"{exercise.name} = [{', '.join(json.dumps(h) for h in shipped)}]")
    return "\n".join(lines) + "\n"


def practises(unit: Unit, exercise: str) -> str:
    """What the exercise practises, in the curriculum's words: "It practises A1 (...)"."""
    ex = next(e for e in unit.exercises if e.name == exercise)
    try:
        curriculum = tomllib.loads((unit.root / CURRICULUM).read_text())
        texts = curriculum.get("units", {}).get(unit.name, {}).get("concepts", {})
    except (OSError, tomllib.TOMLDecodeError):
        texts = {}
    practised = "; ".join(f"{c} ({texts[c]})" if c in texts else c for c in ex.concepts) or "this unit's idea"
    return f"It practises {practised}."


def _concepts(unit: Unit, exercise: str, meta: dict) -> str:
    reading = meta.get("reading", [])
    where = " Read about it: " + ", ".join(reading) + "." if reading else ""
    return f"{practises(unit, exercise)} The unit's introduction (the module's docstring) explains it.{where}"


def _reference(unit: Unit, exercise: str) -> ast.AST | None:
    try:
        tree = ast.parse(unit.solution.read_text())
    except (OSError, SyntaxError):
        return None
    return next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == exercise), None)


def _apis(node: ast.AST | None, unit: Unit, exercise: str) -> str:
    if node is None:
        return ""
    names: list[str] = []
    for call in [n for n in ast.walk(node) if isinstance(n, ast.Call)]:
        name = _call_name(call.func)
        if name and name not in names and name not in _PLAIN:
            names.append(name)
    try:  # the learner's file: it may not parse today
        stub = next((n for n in ast.parse(unit.stub.read_text()).body if getattr(n, "name", None) == exercise), None)
    except (OSError, SyntaxError, ValueError):
        stub = None
    doc = ast.get_docstring(stub) if stub is not None else ""
    returns = next((p.split("\n\n")[0].strip() for p in (doc or "").split("Returns:")[1:2]), "")
    text = ("APIs to use: " + ", ".join(f"`{n}`" for n in names[:10]) + "." if names
            else "No function to call: Python's operators on tensors do it.")
    if returns:
        text += f" What comes back: {' '.join(returns.split())}"
    return text.strip()


def _call_name(func: ast.AST) -> str | None:
    """``torch.zeros`` for a call into a module, ``.backward()`` for a method call."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        parts, base = [func.attr], func.value
        while isinstance(base, ast.Attribute):
            parts.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in ("torch", "nn", "F", "np", "optim", "math", "csv"):
            return ".".join([base.id, *reversed(parts)])
        if (isinstance(base, ast.Name) and base.id == "self") or func.attr.startswith("__"):
            return None  # the class's own layers and methods: the exercise, not an API
        return f".{func.attr}()"
    return None


def _sketch_level(unit: Unit, exercise: str, node: ast.AST | None) -> str:
    note = ""
    try:
        note = str(tomllib.loads((unit.root / "checks" / unit.name / NOTES).read_text()).get(exercise, {}).get("note", ""))
    except (OSError, tomllib.TOMLDecodeError):
        pass
    body = sketch(node) if node is not None else ""
    if not body and not note:
        return ""
    return (f"A sketch, fill in each {_BLANK}:\n\n{body}" if body else "") + (f"\n\n{note}" if note else "")


class _Blanks(ast.NodeTransformer):
    """Every value a statement computes with becomes ``___``; names of what is built stay."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Name(_BLANK) if not isinstance(node.value, str) or len(node.value) < 40 else node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.func = self.visit(node.func)
        node.args = [self.visit(a) if isinstance(a, ast.Call) else ast.Name(_BLANK) for a in node.args]
        for kw in node.keywords:
            kw.value = self.visit(kw.value) if isinstance(kw.value, ast.Call) else ast.Name(_BLANK)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return ast.Name(_BLANK)  # the arithmetic is the exercise: never spelled out

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        return ast.Name(_BLANK)


def sketch(node: ast.AST) -> str:
    """The definition with its docstring dropped and its values blanked."""
    tree = ast.parse(ast.unparse(node))  # a copy to change
    for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]:
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            fn.body = body[1:] or [ast.Expr(ast.Constant(...))]
        blanks = _Blanks()
        fn.body = [blanks.visit(s) if not isinstance(s, (ast.FunctionDef, ast.ClassDef)) else s for s in fn.body]
    return ast.unparse(tree)
