"""Shared helpers of the bench processes: settings, timing, machine description.

Every bench phase runs in its own process (``python -m bench.<phase>``) with the
database and cache chosen by environment variables, so that SQLite, PostgreSQL and
the peer never share a Django configuration.
"""

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA_DIR = BENCH / ".data"
RESULTS_DIR = BENCH / "results"

SQLITE_PATH = DATA_DIR / "bench.sqlite3"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench")
RATE_LIMIT_SCOPES = (
    "COMMENT_ANON",
    "COMMENT_USER",
    "COMMENT_NEW_ACCOUNT",
    "WRITE_ANON",
    "VOTE_ANON",
    "VOTE_USER",
    "WRITE_USER",
    "LOGIN",
)
DATABASES = {"sqlite": f"sqlite:///{SQLITE_PATH}", "postgres": POSTGRES_URL}


def bench_env(db: str, *, cache_url: str = "dummy://", **extra: str) -> dict[str, str]:
    """The environment of a bench process using database ``db``."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "bench-only-secret-key",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "DATABASE_URL": DATABASES[db],
            "CACHE_URL": cache_url,
            "LOG_LEVEL": "WARNING",
            # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            # Bench clients post far faster than any person: no rate limits here
            # (an empty RATE_LIMIT_<SCOPE> disables the scope).
            **{f"RATE_LIMIT_{scope}": "" for scope in RATE_LIMIT_SCOPES},
            # Every comment is published at once: what is measured is the write path,
            # not a moderation policy's own lookups.
            "FORUM_COMMENT_POLICY": "forum.policy.OpenPolicy",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def median_ms(samples_ns: list[int]) -> float:
    return statistics.median(samples_ns) / 1e6


def measure(
    functions: dict[str, Callable[[], object]],
    *,
    min_runs: int = 7,
    max_runs: int = 60,
    budget_s: float = 1.5,
    warmup: int = 2,
) -> dict[str, float]:
    """Median milliseconds of each function, the runs interleaved (a, b, a, b ...)
    so that drift of the machine affects all of them alike."""
    for fn in functions.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[int]] = {name: [] for name in functions}
    started = time.perf_counter()
    runs = 0
    while runs < max_runs and (runs < min_runs or time.perf_counter() - started < budget_s):
        for name, fn in functions.items():
            gc.collect()
            t0 = time.perf_counter_ns()
            fn()
            samples[name].append(time.perf_counter_ns() - t0)
        runs += 1
    return {name: median_ms(values) for name, values in samples.items()}


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        import django
        import rest_framework

        info["django"] = django.get_version()
        info["djangorestframework"] = rest_framework.VERSION
    except ImportError:
        pass
    try:
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    except ImportError:
        pass
    return info


def run_phase(module: str, env: dict[str, str], *args: str, timeout: float = 900) -> dict:
    """Run ``python -m bench.<module>`` and return the JSON it prints last."""
    command = [sys.executable, "-m", f"bench.{module}", *args]
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-5000:]}"
        )
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def emit(result: dict) -> None:
    """The last line a phase prints: its result as JSON (``run_phase`` reads it)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
