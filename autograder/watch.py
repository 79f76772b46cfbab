"""``torchgrade watch``: re-check the current exercise each time its file is saved.

The learner's loop, as rustlings has it: the watcher keeps one process (and
its zygote) warm, so that a save is checked in the time the exercise's own
checks take. It shows the course's progress bar on top, the exercise and
what it practises, and the last result; when the exercise passes it moves
on to the next one not yet passed. Keys: ``h`` the next hint level, ``n``
the next exercise, ``r`` run again, ``q`` quit. Saves are seen by
watchfiles (a well-kept Rust watcher), debounced so that an editor's
write-then-rename counts once.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.text import Text

from autograder.hints import hint_levels, practises
from autograder.progress import hints_seen, load_progress, note_hint
from autograder.units import Course, Unit

__all__ = ["Watch", "watch"]


@dataclass
class _Event:
    kind: str  # "saved", "key" or "stop"
    detail: str = ""


class Watch:
    """One learner's watch over a course, from ``unit`` on (the first not passed when None)."""

    def __init__(self, course: Course, unit: Unit | None = None, console: Console | None = None) -> None:
        self.course, self.console = course, console or Console()
        self.unit = unit or self._first_open_unit()
        self.exercise = self._first_open(self.unit)
        self.events: queue.Queue[_Event] = queue.Queue()
        self.last: str = ""
        self.message: str = ""

    # -- where the learner is

    def _done(self, unit: Unit) -> dict[str, bool]:
        return load_progress(self.course).get(unit.name, {}).get("exercises", {})

    def _first_open(self, unit: Unit) -> str | None:
        done = self._done(unit)
        return next((e.name for e in unit.exercises if not done.get(e.name)), None)

    def _first_open_unit(self) -> Unit:
        return next((u for u in self.course.units if self._first_open(u)), self.course.units[-1])

    def _advance(self) -> None:
        """To the next exercise not passed: in this unit, then in the next units."""
        order = [(u, e.name) for u in self.course.units for e in u.exercises]
        at = next((i for i, (u, e) in enumerate(order) if u.name == self.unit.name and e == self.exercise), -1)
        for u, e in order[at + 1 :] + order[: at + 1]:
            if not self._done(u).get(e):
                self.unit, self.exercise = u, e
                return
        self.exercise = None  # everything passes

    # -- checking

    def check(self) -> bool:
        """Check the current exercise; True if it passes."""
        from autograder.grading import check_work, working_file
        from autograder.runner import RunSettings, new_seed, resolve_devices

        if self.exercise is None:
            return True
        start = time.perf_counter()
        settings = RunSettings(devices=resolve_devices(), seed=new_seed(), allow_unconfined=True, exercises=(self.exercise,))
        result = check_work(self.course, [self.unit], settings)
        got = result.scores[self.unit.name]
        seconds = time.perf_counter() - start
        lines = [f"{working_file(self.unit).name} checked in {seconds:.2f} s"]
        if got.problem:
            lines.append(f"not graded: {got.problem}")
        for row in got.checks:
            mark = "✓" if row["status"] == "passed" else "✗"
            lines.append(f"  {mark} {row['id'].split('::')[-1]} [{row['device']}]" + (f": {row['message']}" if row["message"] else ""))
        lines += [f"  note: {n}" for n in got.notes if not n.startswith("checked ")]
        self.last = "\n".join(lines)
        return bool(got.checks) and all(r["status"] == "passed" for r in got.checks) and not got.problem

    def step(self) -> None:
        """Check; on a pass, say so and move on (and check the next one, already written or not)."""
        passed = self.check()
        if passed and self.exercise is not None:
            before = self.exercise
            self._advance()
            self.message = f"✓ {before} passes." + (f" Next: {self.exercise}." if self.exercise else " Every exercise passes!")
            if self.exercise is not None:
                self.check()

    # -- showing

    def render(self) -> Group:
        total = sum(len(u.exercises) for u in self.course.units)
        done = sum(1 for u in self.course.units for e in u.exercises if self._done(u).get(e.name))
        parts = [Text(f"torchgrade watch · {done}/{total} exercises pass", style="bold"), ProgressBar(total=total, completed=done, width=60)]
        if self.exercise is None:
            parts.append(Text("Every exercise of the course passes. Well done."))
        else:
            ex = next(e for e in self.unit.exercises if e.name == self.exercise)
            parts.append(Text.from_markup(f"\n[bold]{self.unit.name} · {ex.name}[/]: {escape(ex.title)} ({ex.points:g} points)"))
            parts.append(Text(practises(self.unit, ex.name), style="dim"))
        if self.message:
            parts.append(Text(self.message, style="green"))
        if self.last:
            parts.append(Text("\n" + self.last))
        parts.append(Text("\nsave the file to check · h hint · n next · r re-run · q quit", style="dim"))
        return Group(*parts)

    def show(self) -> None:
        self.console.clear()
        self.console.print(self.render())

    def hint(self) -> None:
        if self.exercise is None:
            return
        levels = hint_levels(self.unit, self.exercise)
        if levels:
            level = min(hints_seen(self.course, self.unit.name, self.exercise) + 1, len(levels))
            note_hint(self.course, self.unit.name, self.exercise, level)
            self.message = f"hint {level} of {len(levels)}: {levels[level - 1]}"

    # -- the loop

    def run(self, keys: bool = True) -> None:
        from watchfiles import watch as watch_files

        from autograder.grading import working_file

        stop = threading.Event()
        folders = sorted({str(working_file(u).parent) for u in self.course.units})

        def files() -> None:
            for changes in watch_files(*folders, stop_event=stop, debounce=50, step=10, rust_timeout=500, yield_on_timeout=False):
                names = {Path(p).name for _, p in changes}
                if any(n.endswith((".py", ".ipynb")) and not n.startswith(".") for n in names):
                    self.events.put(_Event("saved", ", ".join(sorted(names))))

        threading.Thread(target=files, daemon=True).start()
        terminal = None
        if keys and sys.stdin.isatty():
            import termios
            import tty

            terminal = termios.tcgetattr(sys.stdin.fileno())
            tty.setcbreak(sys.stdin.fileno())  # keys without Enter; restored on the way out
            threading.Thread(target=self._keys, daemon=True).start()
        self.step()
        self.show()
        try:
            while True:
                event = self.events.get()
                if event.kind == "stop" or (event.kind == "key" and event.detail == "q"):
                    return
                self.message = ""
                if event.kind == "saved" or (event.kind == "key" and event.detail == "r"):
                    self.step()
                elif event.kind == "key" and event.detail == "h":
                    self.hint()
                elif event.kind == "key" and event.detail == "n":
                    self._advance()
                    self.check()
                else:
                    continue
                self.show()
        finally:
            stop.set()
            if terminal is not None:
                import termios

                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, terminal)

    def _keys(self) -> None:
        while True:
            key = os.read(sys.stdin.fileno(), 1).decode(errors="ignore").lower()
            if not key:
                self.events.put(_Event("stop"))
                return
            self.events.put(_Event("key", key))
            if key == "q":
                return


def watch(course: Course, unit: Unit | None = None) -> None:
    Watch(course, unit).run()
