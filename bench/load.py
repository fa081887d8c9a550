"""Over HTTP: gunicorn with several workers on PostgreSQL, wrk on loopback.

``python -m bench.load`` (PostgreSQL environment, set by ``bench.run``):

1. makes sure ``wrk`` is installed (``apt-get install wrk`` when it is missing and
   we may), loads a fresh ``two:1000`` thread into its own post;
2. starts ``gunicorn config.wsgi -c config/gunicorn.py`` on 127.0.0.1 (workers:
   ``BENCH_WORKERS``, default 4) with Redis as the cache when it answers, rate
   limits off (``RATE_LIMIT_*`` empty) and every comment published at once;
3. runs wrk (one thread, ``BENCH_CONNECTIONS`` connections, default 16) for a fixed
   time against the thread: reads only (cached pages), reads with the thread cache
   off (gunicorn restarted with ``FORUM_THREAD_CACHE_SECONDS=0``), and a mix of
   90% reads and 10% posted replies;
4. reports requests per second, p50/p95/p99 latency and every error wrk counts
   (socket errors, timeouts, answers other than 2xx/3xx); stops gunicorn and
   deletes the post.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import DATA_DIR, ROOT, emit, log, setup_django

WRK_SCRIPT = """
-- Written by bench/load.py for one run.
local parents = {%(parents)s}
local path = "%(path)s"
local write_every = %(write_every)d
local counter = 0
math.randomseed(os.time())

request = function()
  counter = counter + 1
  if write_every > 0 and counter %% write_every == 0 then
    local body = string.format(
      '{"body":"Load test reply %%d-%%d.","parent":%%d}',
      math.random(1, 1000000000), counter, parents[math.random(#parents)])
    return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", path .. "%(query)s")
end

done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%%d,"duration_us":%%d,"p50":%%d,"p95":%%d,"p99":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "wrk is not installed (Debian package `wrk`) and cannot be installed here"
    log("   installing wrk (apt-get install wrk)")
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run(command, capture_output=True, timeout=300, check=False)
    return None if shutil.which("wrk") else "apt-get could not install wrk"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/0"
    except OSError:
        pass
    return None


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = _free_port()
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
        }
        self.log_path = DATA_DIR / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        gunicorn = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn")
        if not Path(gunicorn).exists():
            gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
        self.log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi", "-c", "config/gunicorn.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                blogs = f"{self.url}/api/blogs/"
                with urllib.request.urlopen(blogs, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
            if self.process.poll() is not None:
                break
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the master we started, and its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def run_wrk(
    url: str,
    *,
    path: str,
    query: str,
    parents: list[int],
    write_every: int,
    seconds: int,
    connections: int,
) -> dict:
    script = DATA_DIR / "wrk-run.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "parents": ", ".join(str(p) for p in parents),
            "path": path,
            "query": query,
            "write_every": write_every,
        }
    )
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    found = re.search(r"RESULT (\{.*\})", done.stdout)
    if found is None:
        raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(found.group(1))
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "seconds": seconds,
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "errors": errors,
        "error_kinds": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    problem = ensure_wrk()
    if problem is not None:
        emit({"error": f"not measured: {problem}"})
        return
    setup_django()
    from django.db import connection

    from bench.data import BLOG_SLUG, body_pool, build_thread, load_thread
    from bench.writes import _drop_posts, _fresh_post
    from forum.models import Blog, Comment

    if connection.vendor != "postgresql":
        emit({"error": "not measured: the load run is for PostgreSQL"})
        return
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "16"))
    seconds = 5 if args.quick else 12
    pool = body_pool()
    post = _fresh_post(Blog.objects.get(slug=BLOG_SLUG), "load")
    redis = _redis_url()
    cache_env = (
        {"CACHE_URL": redis, "CACHE_KEY_PREFIX": f"bench-load-{os.getpid()}"}
        if redis
        else {"CACHE_URL": "locmem://"}
    )
    try:
        load_thread(post, build_thread("two", 1_000, seed=21, n_bodies=len(pool)), pool)
        parents = list(
            Comment.objects.filter(post=post, status="approved", removed_at__isnull=True)
            .order_by("path")
            .values_list("pk", flat=True)[:300]
        )
        connection.close()
        env = dict(os.environ)
        path = f"/api/posts/{post.pk}/comments/"
        plan = [
            ("thread reads, page of 50, cached", {**cache_env}, "", 0),
            ("thread reads, page of 200, cached", {**cache_env}, "?page_size=200", 0),
            (
                "thread reads, page of 50, cache off",
                {**cache_env, "FORUM_THREAD_CACHE_SECONDS": "0"},
                "",
                0,
            ),
            ("90% thread reads (page of 50) + 10% replies posted", {**cache_env}, "", 10),
        ]
        runs = []
        for name, extra, query, write_every in plan:
            with Gunicorn({**env, **extra}, workers) as server:
                log(f"   {name}: {workers} workers, {connections} connections, {seconds} s")
                result = run_wrk(
                    server.url,
                    path=path,
                    query=query,
                    parents=parents,
                    write_every=write_every,
                    seconds=seconds,
                    connections=connections,
                )
            result.update(name=name, workers=workers, cache=extra.get("CACHE_URL"))
            log(
                f"     {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                f"p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"errors {result['errors']}"
            )
            runs.append(result)
    finally:
        _drop_posts([post.pk])
        if redis:
            import redis as redis_client

            keys = redis_client.Redis.from_url(redis)
            for key in keys.scan_iter(f"{cache_env['CACHE_KEY_PREFIX']}:*"):
                keys.delete(key)
    emit({"load": {"runs": runs}})


if __name__ == "__main__":
    main()
