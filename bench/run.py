"""``make bench``: every benchmark of bench/README.md, then the table of medians and
ratios with each target met or missed, printed and saved to ``bench/results/``.

Each phase runs in its own process with its own database and cache settings
(``bench.common.bench_env``); a phase that cannot run (PostgreSQL or Redis not
answering, no network for the peer) is reported as not measured, with the reason.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

from bench.common import RESULTS_DIR, ROOT, bench_env, log, machine, run_phase

TARGETS_SQLITE_READ_RATIO = 2.0
TARGETS_PG_READ_RATIO = 2.0
TARGET_MAX_QUERIES = 3
TARGET_HUGE_FIRST_PAGE_MS = 15.0
TARGET_REPLY_MS = 5.0
TARGET_IMPORT_S = 3.0
TARGET_PEER_RATIO = 20.0
TARGET_DESK_MS = 150.0
TARGET_TOP_RATIO = 2.0  # sort=top against sort=oldest, 10,000-comment thread


def _postgres_answers() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        url = bench_env("postgres")["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL does not answer ({exc.__class__.__name__})"
    return None


def _redis_answers() -> str | None:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return None
    except OSError as exc:
        return f"Redis does not answer at 127.0.0.1:6379 ({exc.__class__.__name__})"
    return "Redis does not answer PING"


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(bench_env("postgres")["DATABASE_URL"], connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:
        return "n/a"


def _phase(results: dict, key: str, module: str, env: dict, *args: str, timeout: float = 900):
    started = time.perf_counter()
    log(f"== {key}")
    try:
        results[key] = run_phase(module, env, *args, timeout=timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        reason = str(exc).strip().splitlines()
        results[key] = {"error": reason[-1] if reason else repr(exc)}
        log(f"   FAILED: {exc}")
    log(f"   ({time.perf_counter() - started:.1f} s)")


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[ok]


def _read_row(results: dict, db: str, shape: str, size: int, page_size: int) -> dict | None:
    for row in results.get(f"reads-{db}", {}).get("reads", []):
        if (row["shape"], row["size"], row["page_size"]) == (shape, size, page_size):
            return row
    return None


def _cached_row(results: dict, key: str, shape: str, size: int, page_size: int) -> dict | None:
    for row in results.get(key, {}).get("reads", []):
        if (row["shape"], row["size"], row["page_size"]) == (shape, size, page_size):
            return row
    return None


def render(results: dict) -> str:
    info = results["machine"]
    out = [
        f"# Bench results, {results['finished']}",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['platform']}; "
        f"Python {info['python']}, Django {info.get('django')}, DRF "
        f"{info.get('djangorestframework')}, SQLite {info.get('sqlite')}, PostgreSQL "
        f"{results.get('postgres_version', 'n/a')}. Load average (1 min) at start "
        f"{results['load_start']}, at the end {results['load_end']}: other processes share "
        "these CPUs, so absolute times carry that noise; ratios are of interleaved runs.",
        "",
        "Medians in milliseconds. *floor*: one query on the raw driver for the page's "
        "comments, nested in one pass, `orjson.dumps`. *ours*: `GET "
        "/api/posts/{id}/comments/?page_size=N` through Django's test client, in-process "
        "(middleware, DRF, selector, rendering), thread cache off. *cached*: the same with "
        "the page in the cache (local memory / Redis). Threads: `flat`, `two` (two levels "
        "like the seeds), `deep` (down to depth 6); first page.",
        "",
        "| database | thread | page size | comments on page | floor | ours | ours / floor "
        "| queries | cached (locmem) | cached (Redis) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db in ("sqlite", "postgres"):
        phase = results.get(f"reads-{db}", {})
        if "reads" not in phase:
            out.append(f"| {db} | not measured: {phase.get('error', phase.get('skipped'))} |")
            continue
        for row in phase["reads"]:
            args = (row["shape"], row["size"], row["page_size"])
            local = _cached_row(results, f"cached-locmem-{db}", *args)
            redis = _cached_row(results, f"cached-redis-{db}", *args)
            out.append(
                f"| {row['db']} | {row['shape']}:{row['size']} | {row['page_size']} "
                f"| {row['comments']} | {_fmt(row['floor_ms'])} | {_fmt(row['ours_ms'])} "
                f"| {_fmt(row['ratio'])} | {row['queries']} "
                f"| {_fmt(local['ours_ms']) if local else ''} "
                f"| {_fmt(redis['ours_ms']) if redis else ''} |"
            )
    out += [
        "",
        "Sort orders on the 10,000-comment threads (`?sort=oldest`, the default order, and "
        "`?sort=top`, by score; medians in ms, thread cache off, queries per request):",
        "",
        "| database | thread | page size | page | oldest | queries | top | queries "
        "| top / oldest |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for db in ("sqlite", "postgres"):
        phase = results.get(f"sorts-{db}", {})
        if "sorts" not in phase:
            out.append(f"| {db} | not measured: {phase.get('error', phase.get('skipped'))} |")
            continue
        for row in phase["sorts"]:
            out.append(
                f"| {row['db']} | {row['shape']}:{row['size']} | {row['page_size']} "
                f"| {row['page']} | {_fmt(row['oldest_ms'])} | {row['oldest_queries']} "
                f"| {_fmt(row['top_ms'])} | {row['top_queries']} | {_fmt(row['ratio'])} |"
            )
    out += ["", "Writes (medians):", ""]
    out += [
        "| database | reply over the API into 10,000 comments (ms) | the service alone (ms) "
        "| statements of a reply at 1,000 / 10,000 comments | import of 10,000 via "
        "`comment_create` (s) |",
        "|---|---|---|---|---|",
    ]
    for db in ("sqlite", "postgres"):
        phase = results.get(f"writes-{db}", {})
        if "writes" not in phase:
            out.append(f"| {db} | not measured: {phase.get('error', phase.get('skipped'))} |")
            continue
        w = phase["writes"]
        st = w["reply_statements"]
        out.append(
            f"| {w['db']} | {_fmt(w['reply_api_ms'])} | {_fmt(w['reply_service_ms'])} "
            f"| {st['1000']} / {st['10000']} | {_fmt(w['import_10k_s'])} "
            f"(CPU {_fmt(w.get('import_10k_cpu_s'))}) |"
        )

    out += ["", "The moderators' desk (medians; 1,000 held items from 300 posters):", ""]
    out += ["| database | page of 50 cards (ms) | CPU (ms) | queries |", "|---|---|---|---|"]
    for db in ("sqlite", "postgres"):
        phase = results.get(f"desk-{db}", {})
        if "desk" not in phase:
            out.append(f"| {db} | not measured: {phase.get('error', phase.get('skipped'))} |")
            continue
        d = phase["desk"]
        out.append(
            f"| {d['db']} | {_fmt(d['page_ms'])} | {_fmt(d.get('page_cpu_ms'))} | {d['queries']} |"
        )

    peer = results.get("peer", {})
    out += ["", "The django-comments-xtd peer (same thread, its own API endpoint, SQLite):", ""]
    if "peer" in peer:
        p = peer["peer"]
        out.append(
            f"{p['shape']}:{p['size']}, page of {p['page_size']} top-level comments "
            f"({p['comments']} comments): theirs {_fmt(p['theirs_ms'])} ms "
            f"(django-comments-xtd {p['version']}, endpoint `{p['endpoint']}`, "
            f"{p['queries']} queries), ours {_fmt(p.get('ours_ms'))} ms with the thread "
            f"cache off: theirs / ours = **{_fmt(p.get('ratio'), 1)}x**. With the page "
            f"cached (local memory) ours is {_fmt(p.get('ours_cached_ms'))} ms: "
            f"{_fmt(p.get('ratio_cached'), 0)}x. Theirs sends every public comment of the "
            "thread flat, in thread order, with `parent_id` and `level` (its clients nest "
            "them); ours the same comments nested."
        )
    else:
        out.append(f"Not measured: {peer.get('error', peer.get('skipped', 'not run'))}")

    load = results.get("load", {})
    out += ["", "Over HTTP (gunicorn on PostgreSQL, wrk on loopback):", ""]
    if "load" in load:
        out += [
            "| run | workers | connections | seconds | requests/s | p50 ms | p95 ms | p99 ms "
            "| errors |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for run in load["load"]["runs"]:
            out.append(
                f"| {run['name']} | {run['workers']} | {run['connections']} "
                f"| {run['seconds']} | {_fmt(run['rps'], 0)} | {_fmt(run['p50_ms'])} "
                f"| {_fmt(run['p95_ms'])} | {_fmt(run['p99_ms'])} | {run['errors']} |"
            )
    else:
        out.append(f"Not measured: {load.get('error', load.get('skipped', 'not run'))}")

    imports = results.get("imports", {})
    out.append("")
    if "markdown" in imports:
        out.append(imports["markdown"])
    else:
        reason = imports.get("error", imports.get("skipped", "not run"))
        out += ["## Imports", "", f"Not measured: {reason}"]

    out += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for name, measured, ok in targets(results):
        out.append(f"| {name} | {measured} | {_verdict(ok)} |")
    out.append("")
    return "\n".join(out)


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    rows = []
    for db, label, limit in (
        ("sqlite", "SQLite", TARGETS_SQLITE_READ_RATIO),
        ("postgres", "PostgreSQL", TARGETS_PG_READ_RATIO),
    ):
        row = _read_row(results, db, "two", 1_000, 200)
        rows.append(
            (
                f"{label}: page of 200 top-level / ~1,000 comments ≤ {limit:g}x the floor",
                f"{_fmt(row['ratio'])}x ({_fmt(row['ours_ms'])} vs {_fmt(row['floor_ms'])} ms)"
                if row
                else "n/a",
                row["ratio"] <= limit if row else None,
            )
        )
    counts = [
        row["queries"]
        for db in ("sqlite", "postgres")
        for row in results.get(f"reads-{db}", {}).get("reads", [])
    ]
    rows.append(
        (
            f"≤ {TARGET_MAX_QUERIES} queries per page, threads of 100 to 100,000",
            f"at most {max(counts)}" if counts else "n/a",
            max(counts) <= TARGET_MAX_QUERIES if counts else None,
        )
    )
    for page_size in (50, 200):
        row = _read_row(results, "sqlite", "two", 100_000, page_size)
        rows.append(
            (
                f"SQLite: first page of a 100,000-comment thread ≤ {TARGET_HUGE_FIRST_PAGE_MS:g} "
                f"ms (page_size={page_size}{', the default' if page_size == 50 else ''})",
                f"{_fmt(row['ours_ms'])} ms ({row['comments']} comments)" if row else "n/a",
                row["ours_ms"] <= TARGET_HUGE_FIRST_PAGE_MS if row else None,
            )
        )
    sorts = [
        row
        for db in ("sqlite", "postgres")
        for row in results.get(f"sorts-{db}", {}).get("sorts", [])
    ]
    rows.append(
        (
            f"sort=top within {TARGET_TOP_RATIO:g}x of sort=oldest, 10,000-comment threads, "
            "pages of 50 and 200, 3 queries each",
            f"at most {max(r['ratio'] for r in sorts)}x, "
            f"{max(max(r['top_queries'], r['oldest_queries']) for r in sorts)} queries"
            if sorts
            else "n/a",
            all(
                r["ratio"] <= TARGET_TOP_RATIO
                and max(r["top_queries"], r["oldest_queries"]) <= TARGET_MAX_QUERIES
                for r in sorts
            )
            if sorts
            else None,
        )
    )
    writes = results.get("writes-sqlite", {}).get("writes")
    for db in ("sqlite", "postgres"):
        w = results.get(f"writes-{db}", {}).get("writes")
        st = w["reply_statements"] if w else None
        rows.append(
            (
                f"{db}: a reply costs the same statements at 1,000 and 10,000 comments",
                f"{st['1000']} and {st['10000']}" if st else "n/a",
                st["1000"] == st["10000"] if st else None,
            )
        )
    rows.append(
        (
            f"SQLite: a reply into 10,000 comments ≤ {TARGET_REPLY_MS:g} ms in-process "
            "(over the API)",
            f"{_fmt(writes['reply_api_ms'])} ms (service alone {_fmt(writes['reply_service_ms'])})"
            if writes
            else "n/a",
            writes["reply_api_ms"] <= TARGET_REPLY_MS if writes else None,
        )
    )
    rows.append(
        (
            f"SQLite: import of 10,000 comments through comment_create ≤ {TARGET_IMPORT_S:g} s",
            f"{_fmt(writes['import_10k_s'])} s (CPU {_fmt(writes.get('import_10k_cpu_s'))} s)"
            if writes
            else "n/a",
            writes["import_10k_s"] <= TARGET_IMPORT_S if writes else None,
        )
    )
    for db in ("sqlite", "postgres"):
        desk = results.get(f"desk-{db}", {}).get("desk")
        rows.append(
            (
                f"{db}: the desk, a page of 50 cards of 1,000 held items < {TARGET_DESK_MS:g} ms",
                f"{_fmt(desk['page_ms'])} ms (CPU {_fmt(desk.get('page_cpu_ms'))}), "
                f"{desk['queries']} queries"
                if desk
                else "n/a",
                desk["page_ms"] < TARGET_DESK_MS if desk else None,
            )
        )
    peer = results.get("peer", {}).get("peer")
    rows.append(
        (
            f"django-comments-xtd ≥ {TARGET_PEER_RATIO:g}x slower on the same thread "
            "(ours uncached)",
            f"{_fmt(peer.get('ratio'), 1)}x"
            if peer and peer.get("ratio")
            else results.get("peer", {}).get("error", "n/a"),
            peer["ratio"] >= TARGET_PEER_RATIO if peer and peer.get("ratio") else None,
        )
    )
    load = results.get("load", {}).get("load")
    rows.append(
        (
            "Over HTTP: gunicorn, several workers, PostgreSQL, bounded wrk run: zero errors",
            ", ".join(f"{r['name']}: {r['errors']} errors" for r in load["runs"])
            if load
            else results.get("load", {}).get("error", "n/a"),
            all(r["errors"] == 0 for r in load["runs"]) if load else None,
        )
    )
    return rows


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks; print and save the table.")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--no-peer", action="store_true", help="skip django-comments-xtd")
    parser.add_argument("--no-load", action="store_true", help="skip the HTTP load run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-imports", action="store_true", help="skip the import bench")
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    started = time.perf_counter()
    results: dict = {"machine": machine(), "load_start": _load_average()}
    results["machine"]["platform"] = platform.platform()

    databases = ["sqlite"]
    pg_problem = "--no-postgres" if args.no_postgres else _postgres_answers()
    if pg_problem is None:
        databases.append("postgres")
        results["postgres_version"] = _postgres_version()
    else:
        for key in ("reads-postgres", "sorts-postgres", "writes-postgres", "desk-postgres", "load"):
            results[key] = {"skipped": pg_problem}
    redis_problem = _redis_answers()

    for db in databases:
        _phase(results, f"data-{db}", "data", bench_env(db))
        if "error" in results[f"data-{db}"]:
            continue
        _phase(results, f"explain-{db}", "explain", bench_env(db))
        _phase(results, f"reads-{db}", "reads", bench_env(db), *quick)
        _phase(results, f"sorts-{db}", "sorts", bench_env(db), *quick)
        _phase(
            results,
            f"cached-locmem-{db}",
            "reads",
            bench_env(db, cache_url="locmem://"),
            "--cached",
            "--targets",
            *quick,
        )
        if redis_problem is None:
            _phase(
                results,
                f"cached-redis-{db}",
                "reads",
                bench_env(
                    db,
                    cache_url="redis://127.0.0.1:6379/0",
                    # Each run and database its own keys: post ids repeat across them.
                    CACHE_KEY_PREFIX=f"bench-{db}-{os.getpid()}-{int(time.time())}",
                ),
                "--cached",
                "--targets",
                *quick,
            )
        _phase(results, f"writes-{db}", "writes", bench_env(db), *quick)
        _phase(results, f"desk-{db}", "desk", bench_env(db), *quick)

    if args.no_peer:
        results["peer"] = {"skipped": "--no-peer"}
    else:
        _phase(results, "peer", "xtd", bench_env("sqlite"), *quick, timeout=900)
    if args.no_load:
        results["load"] = {"skipped": "--no-load"}
    elif "postgres" in databases:
        _phase(results, "load", "load", bench_env("postgres"), *quick, timeout=600)

    if args.no_imports:
        results["imports"] = {"skipped": "--no-imports"}
    else:
        no_pg = [] if "postgres" in databases else ["--no-postgres"]
        _phase(results, "imports", "imports", bench_env("sqlite"), *quick, *no_pg, timeout=3600)

    results["load_end"] = _load_average()
    results["finished"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    results["seconds"] = round(time.perf_counter() - started, 1)
    table = render(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
    (RESULTS_DIR / "latest.md").write_text(table)
    (RESULTS_DIR / f"{stamp}.md").write_text(table)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(results, indent=1))
    sys.stdout.write(table + "\n")
    sys.stdout.write(
        f"\n(saved to {(RESULTS_DIR / 'latest.md').relative_to(ROOT)}; {results['seconds']} s)\n"
    )


if __name__ == "__main__":
    main()
