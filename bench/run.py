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
TARGET_HTTP_CACHED_RATIO = 0.8
TARGET_P99_OVER_P50 = 3.0
TARGET_EQUAL_FLOOR_RATIO = 1.5


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


def _redis_cell(row: dict | None) -> str:
    if not row:
        return ""
    if row.get("shared_ms") is None:
        return _fmt(row["ours_ms"])
    return f"{_fmt(row['ours_ms'])} ({_fmt(row['shared_ms'])} from Redis)"


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
        "the page in the cache (local memory / Redis: held by the process, and in brackets "
        "fetched from Redis by a process that does not hold it). Threads: `flat`, `two` "
        "(two levels like the seeds), `deep` (down to depth 6); first page. *equal-output floor*: "
        "the same `results` as ours built by hand (one raw query, the driver's timestamps "
        "formatted as the API writes them, the same dicts nested, `orjson.dumps`), "
        "checked equal to ours.",
        "",
        "| database | thread | page size | comments on page | floor | equal-output floor "
        "| ours | ours / floor | ours / equal | queries | cached (locmem) | cached (Redis) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
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
                f"| {row['comments']} | {_fmt(row['floor_ms'])} | {_fmt(row.get('equal_ms'))} "
                f"| {_fmt(row['ours_ms'])} | {_fmt(row['ratio'])} "
                f"| {_fmt(row.get('equal_ratio'))} | {row['queries']} "
                f"| {_fmt(local['ours_ms']) if local else ''} "
                f"| {_redis_cell(redis)} |"
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
        "| database | reply over the API into 10,000 comments (ms) | the same with "
        "`FORUM_ASYNC_COMMENT_COMMIT=1` (ms) | the service alone (ms) "
        "| statements of a reply at 1,000 / 10,000 comments | import of 10,000 via "
        "`comment_create` (s) |",
        "|---|---|---|---|---|---|",
    ]
    for db in ("sqlite", "postgres"):
        phase = results.get(f"writes-{db}", {})
        if "writes" not in phase:
            out.append(f"| {db} | not measured: {phase.get('error', phase.get('skipped'))} |")
            continue
        w = phase["writes"]
        st = w["reply_statements"]
        out.append(
            f"| {w['db']} | {_fmt(w['reply_api_ms'])} | {_fmt(w.get('reply_api_async_ms'))} "
            f"| {_fmt(w['reply_service_ms'])} "
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
    out += [
        "",
        "Over HTTP (gunicorn on PostgreSQL with Redis, load from loopback; the bare view "
        "and the cached page alternate on the same server):",
        "",
    ]
    if "load" in load:
        out += [
            f"Load generator: {load['load'].get('tool', 'wrk')}; the page of 50 is "
            f"{load['load'].get('page_bytes', 'n/a')} bytes. Load average (1 min) when the "
            f"HTTP runs started: {load['load'].get('load_start', 'n/a')}, ended: "
            f"{load['load'].get('load_end', 'n/a')}.",
            "",
            "| run | workers | connections | seconds | requests | requests/s | p50 ms | p95 ms "
            "| p99 ms | p99 / p50 | errors | workers started |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in load["load"]["runs"]:
            out.append(
                f"| {run['name']} | {run['workers']} | {run['connections']} "
                f"| {run['seconds']} | {run['requests']} | {_fmt(run['rps'], 0)} "
                f"| {_fmt(run['p50_ms'])} | {_fmt(run['p95_ms'])} | {_fmt(run['p99_ms'])} "
                f"| {_fmt(run['p99_ms'] / run['p50_ms'] if run['p50_ms'] else None, 1)} "
                f"| {run['errors']} | {run.get('workers_started', 'n/a')} |"
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

    out += [
        "",
        "## Goals of issue 15 (measured in this run)",
        "",
        "| measured | before (issue 15) | goal | this run | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, before, goal, measured, ok in issue_goals(results):
        out.append(f"| {name} | {before} | {goal} | {measured} | {_verdict(ok)} |")
    out += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for name, measured, ok in targets(results):
        out.append(f"| {name} | {measured} | {_verdict(ok)} |")
    out.append("")
    return "\n".join(out)


def _runs(results: dict, prefix: str) -> list[dict]:
    load = results.get("load", {}).get("load") or {}
    return [run for run in load.get("runs", []) if run["name"].startswith(prefix)]


def _rate(runs: list[dict]) -> float | None:
    seconds = sum(run["seconds"] for run in runs)
    return sum(run["requests"] for run in runs) / seconds if seconds else None


def issue_goals(results: dict) -> list[tuple[str, str, str, str, bool | None]]:
    """Each row of issue 15's table: what it measures, the figure the issue started
    from, the goal, this run's figure and ratio, and whether it is met."""
    rows = []
    bare, cached = _runs(results, "bare Django view"), _runs(results, "thread page of 50, cached (")
    load_error = results.get("load", {}).get("error") or results.get("load", {}).get("skipped")
    if bare and cached:
        ratio = _rate(cached) / _rate(bare)
        rounds = ", ".join(
            f"{c['rps']:,.0f} / {b['rps']:,.0f}" for c, b in zip(cached, bare, strict=True)
        )
        measured = (
            f"{_rate(cached):,.0f} vs {_rate(bare):,.0f} req/s: **{ratio:.2f}x** "
            f"(each round, cached / bare: {rounds})"
        )
        baseline = _runs(results, "baseline (")
        if baseline:
            ref = baseline[0]["name"].split("(", 1)[1].split(")", 1)[0]
            measured += (
                f"; the code of `{ref}` in the same rounds: {_rate(baseline):,.0f} req/s, "
                f"{_rate(baseline) / _rate(bare):.2f}x the bare view (p50 "
                f"{max(run['p50_ms'] for run in baseline):.1f} ms, p99 "
                f"{max(run['p99_ms'] for run in baseline):.1f} ms, workers started "
                f"{sum(run.get('workers_started', 0) for run in baseline)})"
            )
        rows.append(
            (
                "gunicorn (3 workers, PostgreSQL + Redis), cached page of 50, req/s vs a bare "
                "Django view sending the same bytes under the same server",
                "1,251 vs 3,279 (0.38x)",
                f"≥ {TARGET_HTTP_CACHED_RATIO:g}x",
                measured,
                ratio >= TARGET_HTTP_CACHED_RATIO,
            )
        )
        worst = max(cached, key=lambda run: run["p99_ms"] / run["p50_ms"])
        started = sum(run.get("workers_started", 0) for run in cached + bare)
        rows.append(
            (
                "the same, p99",
                "106 ms (worker recycling every 5,000 requests: 3-48 restarts per run)",
                f"≤ {TARGET_P99_OVER_P50:g}x p50",
                f"p99 {worst['p99_ms']:.1f} ms, p50 {worst['p50_ms']:.1f} ms: "
                f"**{worst['p99_ms'] / worst['p50_ms']:.1f}x** (worst round); workers "
                f"started during these runs: {started}",
                all(run["p99_ms"] <= TARGET_P99_OVER_P50 * run["p50_ms"] for run in cached),
            )
        )
    else:
        for name in ("gunicorn cached page vs bare view", "the same, p99"):
            rows.append((name, "", "", f"not measured: {load_error}", None))
    redis_row = _cached_row(results, "cached-redis-postgres", "two", 100_000, 50)
    commands = results.get("cached-redis-postgres", {}).get("redis_commands") or {}
    if redis_row and commands:
        measured = (
            f"{_fmt(redis_row.get('shared_ms'))} ms when the page comes from Redis "
            f"(commands: {' '.join(commands.get('shared', [])) or 'none'}); "
            f"{_fmt(redis_row['ours_ms'])} ms when the process holds the page "
            f"(commands: {' '.join(commands.get('held', [])) or 'none'}); raw bytes, "
            "no pickling"
        )
        # At most one round trip: the version and the page together; the version
        # alone when the process holds the page (none when Redis tracks the version
        # for it: forum/version_reader.py).
        ok = commands.get("shared") == ["MGET"] and commands.get("held") in ([], ["GET"])
    else:
        measured, ok = "n/a", None
    rows.append(
        (
            "in-process cached page from Redis (PostgreSQL, page of 50)",
            "1.05 ms (two round trips: version, then the pickled page)",
            "one round trip, raw bytes",
            measured,
            ok,
        )
    )
    parts, oks = [], []
    for db, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        row = _read_row(results, db, "two", 1_000, 200)
        if row and row.get("equal_ratio") is not None:
            parts.append(
                f"{label} **{row['equal_ratio']:.2f}x** ({_fmt(row['ours_ms'])} vs "
                f"{_fmt(row['equal_ms'])} ms, {row['comments']} comments)"
            )
            oks.append(row["equal_ratio"] <= TARGET_EQUAL_FLOOR_RATIO)
        else:
            parts.append(f"{label} n/a")
            oks.append(None)
    rows.append(
        (
            "uncached thread read, ~1,000 comments (page of 200 top-level), in-process",
            "5.0 ms; `_nest` 43% of it, the body copied four times",
            f"≤ {TARGET_EQUAL_FLOOR_RATIO:g}x the equal-output floor on both databases",
            "; ".join(parts),
            None if None in oks else all(oks),
        )
    )
    w = results.get("writes-postgres", {}).get("writes")
    rows.append(
        (
            "reply over the API into a 10,000-comment thread, PostgreSQL",
            "8.1 ms (service alone 3.8 ms)",
            f"≤ {TARGET_REPLY_MS:g} ms",
            f"{_fmt(w['reply_api_ms'])} ms (synchronous commit, the default); "
            f"{_fmt(w.get('reply_api_async_ms'))} ms with FORUM_ASYNC_COMMENT_COMMIT=1; "
            f"service alone {_fmt(w['reply_service_ms'])} ms"
            if w
            else "n/a",
            w["reply_api_ms"] <= TARGET_REPLY_MS if w else None,
        )
    )
    runs = results.get("imports", {}).get("runs")
    source = "this run"
    if runs is None:  # the import phase skipped: the import bench's own last run
        saved = RESULTS_DIR / "imports-latest.json"
        if saved.exists():
            earlier = json.loads(saved.read_text())
            runs = earlier.get("runs")
            source = (
                "not this run: `bench/results/imports-latest.json` (the import bench's last "
                f"run, load average {earlier.get('load', 'n/a')})"
            )
    for db, label, before, goal, limit in (
        ("postgres", "PostgreSQL", "35 s wall, 7 s CPU", "≤ 3 s, linear in the size", 3.0),
        ("sqlite", "SQLite", "2.7 s", "≤ 1.5 s", 1.5),
    ):
        seeds = ((runs or {}).get(db) or {}).get("import_seeds") or {}
        if "10000" in seeds:
            sizes = ", ".join(
                f"{int(size):,}: {seeds[size]['seconds']:.2f} s" for size in sorted(seeds, key=int)
            )
            measured = (
                f"**{seeds['10000']['seconds']:.2f} s** (CPU {seeds['10000']['cpu_seconds']:.2f} "
                f"s); by size {sizes}; {source}"
            )
            ok = seeds["10000"]["seconds"] <= limit
        else:
            measured, ok = "not measured (the import bench: `bench/imports.py`)", None
        rows.append(
            (f"10,000-comment import on {label} (`import_seeds`)", before, goal, measured, ok)
        )
    return rows


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
    parser.add_argument(
        "--only-load", action="store_true", help="only the HTTP runs (PostgreSQL data first)"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="write latest.md again from latest.json (the same run's figures)",
    )
    args = parser.parse_args()
    if args.render_only:
        results = json.loads((RESULTS_DIR / "latest.json").read_text())
        table = render(results)
        (RESULTS_DIR / "latest.md").write_text(table)
        sys.stdout.write(table + "\n")
        return
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

    if args.only_load:  # a partial run: the HTTP phase alone, printed, not saved
        databases = [db for db in databases if db == "postgres"]
        args.no_peer = True
    for db in databases:
        _phase(results, f"data-{db}", "data", bench_env(db))
        if "error" in results[f"data-{db}"] or args.only_load:
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
        load_start = _load_average()
        _phase(results, "load", "load", bench_env("postgres"), *quick, timeout=900)
        if "load" in results["load"]:
            results["load"]["load"]["load_start"] = load_start
            results["load"]["load"]["load_end"] = _load_average()

    if args.no_imports:
        results["imports"] = {"skipped": "--no-imports"}
    else:
        no_pg = [] if "postgres" in databases else ["--no-postgres"]
        _phase(results, "imports", "imports", bench_env("sqlite"), *quick, *no_pg, timeout=3600)

    results["load_end"] = _load_average()
    results["finished"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    results["seconds"] = round(time.perf_counter() - started, 1)
    table = render(results)
    if args.only_load:
        sys.stdout.write(table + "\n")
        return
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
