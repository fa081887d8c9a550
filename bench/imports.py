"""The import bench: ``import_seeds`` and ``import_comments`` on the same thread of
1,000, 10,000 and 100,000 comments (``bench/imports_gen.py``), on SQLite and on
PostgreSQL, each run in a fresh database, side by side; and the peak memory of the
process importing 100,000 comments.

``python -m bench.imports [--sizes 1000,10000,100000] [--no-postgres] [--quick]``
(``--quick``: 1,000 and 10,000 only). Prints a markdown table and saves it, with the
figures as JSON, to ``bench/results/imports-latest.{md,json}``; ``make bench`` runs it
as its ``imports`` phase and puts the table in ``latest.md``.

Each measured import is its own process (``--run``): Django set up and the database
migrated first (not timed), then the command timed (wall and CPU seconds), then the
process's peak resident memory (``ru_maxrss``) read. Fresh databases are copies of a
migrated template (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL), so no run sees another's rows.
"""

import argparse
import io
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from bench.common import DATA_DIR, POSTGRES_URL, RESULTS_DIR, bench_env, emit, log, run_phase
from bench.imports_gen import generate

FILES = DATA_DIR / "imports"
SQLITE_TEMPLATE = FILES / "template.sqlite3"
SQLITE_RUN = FILES / "run.sqlite3"
PG_TEMPLATE = "bench_imports_template"
PG_RUN = "bench_imports_run"
IMPORTERS = {
    "import_seeds": ("seeds", ["import_seeds"]),
    "import_comments (WXR)": ("wordpress", ["import_comments"]),
    "import_comments (Disqus)": ("disqus", ["import_comments"]),
    "import_comments (Blogger)": ("blogger", ["import_comments"]),
}
TARGET_10K_S = 3.0
TARGET_PEAK_MB = 300


def _pg_url(name: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def _pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(_pg_url("postgres"), autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def _migrate(env: dict) -> None:
    run_phase("imports", env, "--migrate", timeout=900)


def _templates(databases: list[str]) -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    if "sqlite" in databases and not SQLITE_TEMPLATE.exists():
        log("   migrating the SQLite template")
        _migrate(bench_env("sqlite", DATABASE_URL=f"sqlite:///{SQLITE_TEMPLATE}"))
    if "postgres" in databases:
        log("   migrating the PostgreSQL template")
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_RUN}", f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
        _pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
        _migrate(bench_env("postgres", DATABASE_URL=_pg_url(PG_TEMPLATE)))


def _fresh(db: str) -> dict:
    if db == "sqlite":
        shutil.copyfile(SQLITE_TEMPLATE, SQLITE_RUN)
        return bench_env("sqlite", DATABASE_URL=f"sqlite:///{SQLITE_RUN}")
    _pg_admin(
        f"DROP DATABASE IF EXISTS {PG_RUN}", f"CREATE DATABASE {PG_RUN} TEMPLATE {PG_TEMPLATE}"
    )
    return bench_env("postgres", DATABASE_URL=_pg_url(PG_RUN))


def measure_one(importer: str, path: Path) -> dict:
    """In the child: run one import; its wall and CPU seconds and the peak memory."""
    import django

    django.setup()
    from django.core.management import call_command

    _fmt, command = IMPORTERS[importer]
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    call_command(*command, str(path), stdout=out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    from forum.models import Comment

    return {
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "comments": Comment.objects.count(),
    }


def _postgres_problem() -> str | None:
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL does not answer ({exc.__class__.__name__})"
    return None


def render(results: dict) -> str:
    sizes = results["sizes"]
    lines = [
        "## Imports: the same thread through each importer, fresh database each run",
        "",
        f"Wall seconds (CPU seconds); target: 10,000 comments ≤ {TARGET_10K_S:g} s on both "
        "databases, 100,000 about ten times that; peak memory (RSS of the whole process) "
        f"< {TARGET_PEAK_MB} MB for 100,000. Load average at the start: {results['load']}.",
        "",
        "| database | importer | " + " | ".join(f"{n:,} comments" for n in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for db, by_importer in results["runs"].items():
        if isinstance(by_importer, str):
            lines.append(f"| {db} | not measured: {by_importer} |" + " |" * len(sizes))
            continue
        for importer, runs in by_importer.items():
            cells = []
            for size in sizes:
                run = runs.get(str(size))
                if run is None:
                    cells.append("n/a")
                elif "error" in run:
                    cells.append("failed")
                else:
                    cell = f"{run['seconds']:.2f} s ({run['cpu_seconds']:.2f})"
                    if size == max(sizes):
                        cell += f", {run['peak_mb']:.0f} MB"
                    cells.append(cell)
            lines.append(f"| {db} | {importer} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--importers", default="import_seeds,import_comments (WXR)")
    parser.add_argument("--run", nargs=2, metavar=("IMPORTER", "FILE"))
    parser.add_argument("--migrate", action="store_true")
    args = parser.parse_args()
    if args.migrate:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        emit({"migrated": True})
        return
    if args.run:
        emit(measure_one(args.run[0], Path(args.run[1])))
        return

    sizes = [int(n) for n in args.sizes.split(",")]
    if args.quick:
        sizes = [n for n in sizes if n <= 10_000]
    importers = [name.strip() for name in args.importers.split(",")]
    databases = ["sqlite"]
    problem = "--no-postgres" if args.no_postgres else _postgres_problem()
    if problem is None:
        databases.append("postgres")
    results: dict = {"sizes": sizes, "load": f"{os.getloadavg()[0]:.2f}", "runs": {}}
    if problem is not None:
        results["runs"]["postgres"] = problem
    _templates(databases)
    for db in databases:
        results["runs"][db] = {}
        for importer in importers:
            runs = results["runs"][db].setdefault(importer, {})
            for size in sizes:
                path = generate(size, IMPORTERS[importer][0], FILES)
                env = _fresh(db)
                log(f"   {db} {importer} {size:,}")
                try:
                    runs[str(size)] = run_phase("imports", env, "--run", importer, str(path))
                except Exception as exc:
                    runs[str(size)] = {"error": str(exc).strip().splitlines()[-1]}
                    log(f"   FAILED: {exc}")
    if "postgres" in databases:
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_RUN}")
    table = render(results)
    results["markdown"] = table
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "imports-latest.md").write_text(table)
    (RESULTS_DIR / "imports-latest.json").write_text(json.dumps(results, indent=1))
    sys.stderr.write(table)
    emit(results)


if __name__ == "__main__":
    main()
