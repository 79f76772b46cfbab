"""Feedback pages: one self-contained HTML file per student, and a class summary.

Made from the grades document only, so a page can show nothing a student
may not see: per unit, every check with its status, points, devices and
message. No hidden check source, no other student, no script, no outside
resource; everything from the submission is escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

from autograder.scoring import runs_by_check

__all__ = ["student_page", "class_page", "write_feedback"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { margin-bottom: .2em; } .meta { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
td, th { border: 1px solid #ddd; padding: .35em .5em; vertical-align: top; text-align: left; }
th { background: #f4f4f4; } td.pts { text-align: right; white-space: nowrap; }
.passed { color: #17692b; } .failed { color: #b00020; } .error { color: #8a2be2; }
.timeout { color: #a05a00; } .skipped { color: #777; }
pre { white-space: pre-wrap; margin: 0; font-size: .9em; }
.problem { background: #fff3f3; border: 1px solid #f0c0c0; padding: .5em; }
.note { background: #fffbe6; border: 1px solid #eadc9a; padding: .5em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def student_page(doc: dict, student: str) -> str:
    """The HTML feedback page of ``student`` in the grades document ``doc``."""
    row = doc["students"][student]
    titles = {u["name"]: u["title"] for u in doc["units"]}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feedback for {_e(student)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Feedback for {_e(student)}</h1>",
        f'<p class="meta">Total {row["total"]:g} of {row["max_total"]:g} points · devices: {_e(", ".join(doc["devices"]))}'
        f" · {_e(doc['cuda'])} · graded {_e(doc['created'])}</p>",
    ]
    for name, unit in row["units"].items():
        parts.append(f"<h2>{_e(name)}: {_e(titles.get(name, ''))} <small>({unit['score']:g} / {unit['max_score']:g})</small></h2>")
        if unit["problem"]:
            parts.append(f'<p class="problem">Not graded: {_e(unit["problem"])}</p>')
        if unit.get("late"):
            late = unit["late"]
            parts.append(
                f'<p class="problem">Handed in {late["days"]} day(s) after the deadline ({_e(late["due"])}): '
                f'{late["penalty"]:.0%} off, {late["score_before"]:g} before the penalty.</p>'
            )
        for note in unit.get("notes", []):
            parts.append(f'<p class="note">{_e(note)}</p>')
        by_check = runs_by_check(unit["checks"])
        parts.append("<table><tr><th>exercise</th><th>check</th><th>result</th><th>points</th><th>message</th></tr>")
        for check_id, runs in by_check.items():
            points = sum(c["points"] for c in runs)
            most = sum(c["max_points"] for c in runs)
            results = " ".join(f'<span class="{_e(c["status"])}">{_e(c["status"])} [{_e(c["device"])}]</span>' for c in runs)
            seen: dict[str, list[str]] = {}  # one line per distinct message, with its devices
            for c in runs:
                if c["message"]:
                    seen.setdefault(c["message"], []).append(c["device"])
            messages = "".join(f"<pre>[{_e(', '.join(d))}] {_e(m)}</pre>" for m, d in seen.items())
            short = check_id.split("::", 1)[-1].removeprefix("test_").replace("_", " ")
            parts.append(
                f"<tr><td>{_e(runs[0]['exercise'])}</td><td>{_e(short)}</td><td>{results}</td>"
                f'<td class="pts">{points:g} / {most:g}</td><td>{messages}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_feedback(doc: dict, out: Path) -> list[Path]:
    """Write ``out/<student>.html`` for every student and ``out/../summary.html``; return the pages."""
    out.mkdir(parents=True, exist_ok=True)
    (out.parent / "summary.html").write_text(class_page(doc), encoding="utf-8")
    written = []
    for student in doc["students"]:
        path = out / f"{student}.html"
        path.write_text(student_page(doc, student), encoding="utf-8")
        written.append(path)
    return written


def class_page(doc: dict) -> str:
    """The class at a glance: score distribution, pass rate per check, the traps hit most."""
    students = doc["students"]
    most = max((r["max_total"] for r in students.values()), default=0) or 1
    totals = [r["total"] / most * 100 for r in students.values()]
    bins = [0] * 10
    for t in totals:
        bins[min(int(t // 10), 9)] += 1
    tallest = max(bins) or 1
    bars = "".join(
        f'<rect x="{40 + i * 50}" y="{170 - n / tallest * 150:.1f}" width="40" height="{n / tallest * 150:.1f}" fill="#4a78b5"/>'
        f'<text x="{60 + i * 50}" y="188" font-size="11" text-anchor="middle">{i * 10}-{i * 10 + 10}%</text>'
        f'<text x="{60 + i * 50}" y="{165 - n / tallest * 150:.1f}" font-size="11" text-anchor="middle">{n}</text>'
        for i, n in enumerate(bins)
    )
    plot = f'<svg role="img" aria-label="score distribution" width="560" height="200">{bars}</svg>'
    runs: dict[str, list[bool]] = defaultdict(list)
    traps: dict[tuple[str, str], set[str]] = defaultdict(set)
    for student, row in students.items():
        for unit in row["units"].values():
            per_check: dict[str, bool] = {}
            for c in unit["checks"]:
                per_check[c["id"]] = per_check.get(c["id"], True) and c["status"] == "passed"
                if c.get("trap") and c["status"] == "failed":
                    traps[(c["id"].split("::")[0], c["trap"])].add(student)
            for check_id, passed in per_check.items():
                runs[check_id].append(passed)
    rates = sorted(((sum(v) / len(v), k, len(v)) for k, v in runs.items()), key=lambda x: (x[0], x[1]))
    rate_rows = "".join(f"<tr><td>{_e(k)}</td><td class='pts'>{r * 100:.0f}%</td><td class='pts'>{n}</td></tr>" for r, k, n in rates)
    trap_rows = "".join(
        f"<tr><td>{_e(unit)}</td><td>{_e(trap)}</td><td class='pts'>{len(who)}</td></tr>"
        for (unit, trap), who in sorted(traps.items(), key=lambda x: (-len(x[1]), x[0]))
    )
    mean = sum(totals) / len(totals) if totals else 0.0
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>Class summary</title><style>{_CSS}</style></head><body>',
        "<h1>Class summary</h1>",
        f'<p class="meta">{len(students)} students · mean {mean:.0f}% · devices: {_e(", ".join(doc["devices"]))} · seed {doc["seed"]}</p>',
        "<h2>Score distribution (% of the maximum)</h2>", plot,
        "<h2>Traps the class fell into most</h2>",
        "<table><tr><th>unit</th><th>trap</th><th>students</th></tr>" + (trap_rows or "<tr><td colspan=3>none</td></tr>") + "</table>",
        "<h2>Pass rate of every check (lowest first)</h2>",
        "<table><tr><th>check</th><th>passed</th><th>students</th></tr>" + rate_rows + "</table>",
        "</body></html>",
    ]) + "\n"  # fmt: skip
