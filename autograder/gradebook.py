"""The gradebook: every run, submission and check result, in a database.

SQLite in the output folder by default; any SQLAlchemy URL works
(``postgresql://...``). A *grading* is one submission (student, unit, the
file's content hash) graded against one version of the unit's checks (the
hash of its hidden checks and metadata). Gradings are written a chunk at a
time, each chunk in one transaction, so a run killed at any point (even
``kill -9``) loses only the chunk in flight; started again, it reuses every
grading whose file and checks are unchanged and grades the rest. A grading
is never written twice (a unique key), and old gradings stay as history when
a file or a check changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa

from autograder.engine_version import source_hash
from autograder.jobs import Job
from autograder.safetext import printable
from autograder.units import Unit

__all__ = ["Gradebook", "grading_keys"]

_meta = sa.MetaData()
runs = sa.Table(
    "runs", _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started", sa.String(40), nullable=False),
    sa.Column("finished", sa.String(40)),
    sa.Column("seed", sa.String(24), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON: devices, workers, units, versions
)  # fmt: skip
gradings = sa.Table(
    "gradings", _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("student", sa.String(128), nullable=False),
    sa.Column("unit", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("checks_hash", sa.String(64), nullable=False),
    sa.Column("source", sa.String(512)),
    sa.Column("problem", sa.Text),
    sa.Column("graded_at", sa.String(40), nullable=False),
    sa.Column("zeroed", sa.Text),  # why the run itself gave it 0 (a cluster job whose worker died twice)
    sa.Column("notes", sa.Text),  # JSON: what was skipped of the file (a notebook's cells), in words
    sa.UniqueConstraint("student", "unit", "content_hash", "checks_hash"),
)  # fmt: skip
results = sa.Table(
    "results", _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("grading_id", sa.ForeignKey("gradings.id"), nullable=False, index=True),
    sa.Column("check_name", sa.String(256), nullable=False),
    sa.Column("exercise", sa.String(128), nullable=False),
    sa.Column("device", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("max_points", sa.Float, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("trap", sa.String(128)),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("worker", sa.String(256)),  # the cluster worker that ran it, when a cluster did
)  # fmt: skip
#: columns added since the first gradebooks: (table, column, SQL type), added to older ones on open
_ADDED = (("gradings", "zeroed", "TEXT"), ("gradings", "notes", "TEXT"), ("results", "worker", "VARCHAR(256)"))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big") + p)
    return h.hexdigest()


def grading_keys(jobs: list[Job]) -> list[tuple[str, str, str, str]]:
    """What each job's grading is of: (student, unit, content hash, checks hash).
    Each unit's checks are hashed once (three files read per job made 3,600
    jobs take 0.3 s before the first was graded)."""
    checks: dict[str, str] = {}
    keys = []
    for job in jobs:
        if job.unit.name not in checks:
            checks[job.unit.name] = checks_hash(job.unit)
        content = _sha(job.source.read_bytes()) if job.source is not None else _sha(b"problem:" + job.problem.encode())
        keys.append((job.student, job.unit.name, content, checks[job.unit.name]))
    return keys


def checks_hash(unit: Unit) -> str:
    """What a grading was made with: the unit's checks, metadata and solution, and the engine.

    The engine (every module of the grader and of the sandbox side) and the
    torch version are part of it, so a fix to either re-grades.
    """
    files = [unit.hidden_checks, unit.stub.parent / "unit.toml", unit.solution]
    return _sha(engine_hash().encode(), *(p.read_bytes() if p.is_file() else b"" for p in files))


def engine_hash() -> str:
    """The engine's source and the torch version it runs on."""
    import torch

    return _sha(torch.__version__.encode(), source_hash().encode())


class Gradebook:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        _meta.create_all(self.engine)
        _add_missing_columns(self.engine)

    def start_run(self, seed: int, settings: dict) -> int:
        with self.engine.begin() as db:
            row = db.execute(runs.insert().values(started=_now(), seed=str(seed), settings=json.dumps(settings)))
            return int(row.inserted_primary_key[0])

    def finish_run(self, run_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(finished=_now()))

    def cached(self, jobs: list[Job]) -> dict[tuple[str, str], list[dict]]:
        """``{(student, unit): results}`` of the jobs already graded with the same file and checks."""
        found: dict[tuple[str, str], list[dict]] = {}
        with self.engine.connect() as db:
            keys = grading_keys(jobs)
            stored = _stored(db, keys)
            rows_of = _results_of(db, [g.id for g in stored.values()])
            for job, key in zip(jobs, keys):
                grading = stored.get(key)
                if grading is None:
                    continue
                got = [_as_result(job, r) for r in rows_of.get(grading.id, [])]
                base = {"student": job.student, "unit": job.unit.name}
                got += [base | {"kind": "note", "text": t} for t in json.loads(grading.notes or "[]")]
                if grading.zeroed:
                    got.append(base | {"kind": "problem", "text": grading.zeroed})
                found[(job.student, job.unit.name)] = got
        return found

    def save(self, run_id: int, jobs: list[Job], chunk: list[dict]) -> None:
        """Store a chunk's gradings and results in one transaction."""
        by_job: dict[tuple[str, str], list[dict]] = {}
        for r in chunk:
            if r.get("kind") in ("check", "note", "problem"):
                by_job.setdefault((r["student"], r["unit"]), []).append(r)
        keys = grading_keys(jobs)
        with self.engine.begin() as db:
            stored = _stored(db, keys)
            fresh = [(job, key) for job, key in zip(jobs, keys) if key not in stored]  # graded by an earlier run meanwhile: never twice
            if not fresh:
                return
            said = [by_job.get(key[:2], []) for _, key in fresh]
            # One statement per table for the whole chunk: a statement per job cost more than the rows themselves.
            ids = db.execute(gradings.insert().returning(gradings.c.id, sort_by_parameter_order=True), [
                {"run_id": run_id, "student": key[0], "unit": key[1], "content_hash": key[2], "checks_hash": key[3],
                 "source": printable(str(job.origin or job.source)) if job.source else None, "problem": job.problem or None,
                 "graded_at": _now(), "zeroed": _zeroed(mine), "notes": _notes(mine)}
                for (job, key), mine in zip(fresh, said)
            ]).scalars().all()  # fmt: skip
            rows = [
                {"grading_id": gid, "check_name": r["check"], "exercise": r["exercise"], "device": r["device"],
                 "status": r["status"], "max_points": r["max_points"], "message": r["message"], "trap": r["trap"],
                 "seconds": r.get("seconds", 0.0), "worker": r.get("worker")}
                for gid, mine in zip(ids, said) for r in mine if r["kind"] == "check"
            ]  # fmt: skip
            if rows:
                db.execute(results.insert(), rows)

    def count(self, table: str) -> int:
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).select_from(_meta.tables[table])).scalar())


def _notes(mine: list[dict]) -> str | None:
    notes = [r["text"] for r in mine if r["kind"] == "note"]
    return json.dumps(notes) if notes else None


def _zeroed(mine: list[dict]) -> str | None:
    return next((r["text"] for r in mine if r["kind"] == "problem"), None)


_BATCH = 500  # values per IN (...): well under any database's limit on parameters


def _stored(db: sa.Connection, keys: list[tuple[str, str, str, str]]) -> dict[tuple[str, str, str, str], sa.Row]:
    """The gradings stored for ``keys``, by key: a query per 500 students, not one per job."""
    checks = sorted({k[3] for k in keys})
    students = sorted({k[0] for k in keys})
    wanted = set(keys)
    found = {}
    for i in range(0, len(students), _BATCH):
        query = sa.select(gradings.c.id, gradings.c.student, gradings.c.unit, gradings.c.content_hash, gradings.c.checks_hash,
                          gradings.c.zeroed, gradings.c.notes).where(
            gradings.c.checks_hash.in_(checks), gradings.c.student.in_(students[i : i + _BATCH]),
        )  # fmt: skip
        for row in db.execute(query):
            key = (row.student, row.unit, row.content_hash, row.checks_hash)
            if key in wanted:
                found[key] = row
    return found


def _results_of(db: sa.Connection, ids: list[int]) -> dict[int, list[sa.RowMapping]]:
    """The stored results of the gradings ``ids``, each grading's in the order they were written."""
    out: dict[int, list[sa.RowMapping]] = {}
    for i in range(0, len(ids), _BATCH):
        query = sa.select(results).where(results.c.grading_id.in_(ids[i : i + _BATCH])).order_by(results.c.id)
        for row in db.execute(query).mappings():
            out.setdefault(row["grading_id"], []).append(row)
    return out


def _as_result(job: Job, row: sa.RowMapping) -> dict:
    out = {
        "kind": "check", "student": job.student, "unit": job.unit.name, "check": row["check_name"],
        "exercise": row["exercise"], "device": row["device"], "max_points": row["max_points"],
        "status": row["status"], "message": row["message"], "trap": row["trap"], "seconds": row["seconds"],
    }  # fmt: skip
    return out | ({"worker": row["worker"]} if row["worker"] else {})


def _add_missing_columns(engine: sa.Engine) -> None:
    """Bring a gradebook from an older torchgrade up to this schema (columns only ever added)."""
    inspector = sa.inspect(engine)
    for table, column, kind in _ADDED:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            with engine.begin() as db:
                db.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))


def _sqlite_pragmas(conn, _record) -> None:
    # WAL: a killed writer leaves the database consistent; readers never block it.
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
