"""Over HTTP: gunicorn with 3 workers on PostgreSQL and Redis, load from loopback.

``python -m bench.load`` (PostgreSQL environment, set by ``bench.run``):

1. loads a fresh ``two:1000`` thread into its own post;
2. starts ``gunicorn config.wsgi -c config/gunicorn.py`` on 127.0.0.1 (workers:
   ``BENCH_WORKERS``, default 3) with Redis as the cache when it answers, rate
   limits off, every comment published at once, and one more URL
   (``bench/settings.py``, ``bench/urls.py``): ``/bench/bare/?bytes=N``, a plain
   Django view sending N fixed bytes through the same server and middleware;
3. drives it with ``wrk`` (installed with ``apt-get install wrk`` when missing and
   we may) or, without wrk, with a bounded Python load generator (``PyLoad``:
   asyncio, the same connections, every request timed): each run lasts a fixed time
   and stops early at ``BENCH_MAX_REQUESTS`` requests. The runs:

   - the bare view sending as many bytes as the cached page, and the cached page
     of 50 (the default page), alternated in two rounds on the same server so that
     the machine's drift hits both alike; their ratio is the goal;
   - with ``BENCH_BASELINE_REF`` (e.g. ``main``), the same cached page served at
     once by the code of that git ref (exported under ``bench/.data``), in the same
     rounds: the in-run baseline;
   - the cached page with ``Accept-Encoding: gzip``;
   - a mix of 90% reads and 10% replies posted;
   - the page with the thread cache off (gunicorn restarted with
     ``FORUM_THREAD_CACHE_SECONDS=0``);

4. reports requests per second, p50/p95/p99 latency, every error (socket errors,
   timeouts, answers other than 2xx/3xx) and the workers gunicorn started during the
   run (recycled or crashed); stops gunicorn and deletes the post.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
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
  return wrk.format("GET", path .. "%(query)s", {%(headers)s})
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
    def __init__(self, env: dict[str, str], workers: int, *, cwd: Path = ROOT) -> None:
        self.cwd = cwd
        self.port = _free_port()
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(cwd),
        }
        self.log_path = DATA_DIR / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        gunicorn = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn")
        if not Path(gunicorn).exists():
            gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
        self.log = self.log_path.open("a")
        self.log_start = self.log.tell()
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi", "-c", "config/gunicorn.py"],
            cwd=self.cwd,
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

    def workers_booted(self) -> int:
        """Workers gunicorn has started so far (the first ones included)."""
        self.log.flush()
        with self.log_path.open() as log_file:
            log_file.seek(self.log_start)
            return log_file.read().count("Booting worker")

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
    seconds: float,
    connections: int,
    headers: dict[str, str],
    max_requests: int,
) -> dict:
    """A wrk run (wrk has no request cap: ``max_requests`` is not enforced, the
    duration bounds it)."""
    script = DATA_DIR / "wrk-run.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "parents": ", ".join(str(p) for p in parents),
            "path": path,
            "query": query,
            "write_every": write_every,
            "headers": ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()),
        }
    )
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
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
        "tool": "wrk",
        "seconds": round(raw["duration_us"] / 1e6, 1),
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "errors": errors,
        "error_kinds": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


class PyLoad:
    """A bounded load generator for when wrk is missing: ``connections`` asyncio
    clients on loopback, each sending one request per connection (as gunicorn's
    sync workers close each connection) and reading the whole answer, until
    ``seconds`` have passed or ``max_requests`` were sent. Slower than wrk (it
    shares the CPUs with the server in one Python process), the same for every run
    it compares."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the load generator only runs against loopback")

    def run(
        self,
        *,
        path: str,
        query: str,
        parents: list[int],
        write_every: int,
        seconds: float,
        connections: int,
        headers: dict[str, str],
        max_requests: int,
    ) -> dict:
        import asyncio
        import random

        latencies: list[float] = []
        errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
        counter = 0
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

        def next_request() -> bytes:
            nonlocal counter
            counter += 1
            if write_every and counter % write_every == 0:
                body = json.dumps(
                    {
                        "body": f"Load test reply {random.randrange(10**9)}-{counter}.",
                        "parent": random.choice(parents),
                    }
                ).encode()
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                return head.encode() + body
            return (
                f"GET {path}{query} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{extra}"
                "Connection: close\r\n\r\n"
            ).encode()

        async def one(deadline: float) -> None:
            while time.monotonic() < deadline and counter < max_requests:
                request = next_request()
                started = time.perf_counter()
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port), 10
                    )
                except (OSError, TimeoutError):
                    errors["connect"] += 1
                    continue
                try:
                    writer.write(request)
                    await writer.drain()
                    status_line = await asyncio.wait_for(reader.readline(), 10)
                    await asyncio.wait_for(reader.read(), 10)  # to EOF: Connection: close
                except TimeoutError:
                    errors["timeout"] += 1
                    continue
                except OSError:
                    errors["read"] += 1
                    continue
                finally:
                    writer.close()
                latencies.append(time.perf_counter() - started)
                status = status_line.split(b" ", 2)[1:2]
                if not status or not status[0].startswith((b"2", b"3")):
                    errors["status"] += 1

        async def all_clients() -> float:
            started = time.perf_counter()
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(one(deadline) for _ in range(connections)))
            return time.perf_counter() - started

        duration = asyncio.run(all_clients())
        latencies.sort()

        def percentile(q: float) -> float:
            if not latencies:
                return 0.0
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        return {
            "tool": "python",
            "seconds": round(duration, 1),
            "connections": connections,
            "requests": len(latencies),
            "rps": len(latencies) / duration,
            "p50_ms": percentile(0.50),
            "p95_ms": percentile(0.95),
            "p99_ms": percentile(0.99),
            "errors": sum(errors.values()),
            "error_kinds": errors,
        }


def baseline_tree(ref: str) -> Path:
    """The project at git ``ref`` (e.g. ``main``), exported under ``bench/.data`` with
    this bench's bare view added, to serve the same thread side by side."""
    target = DATA_DIR / f"baseline-{re.sub(r'[^A-Za-z0-9._-]', '_', ref)}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True, timeout=120)
    for name in ("settings.py", "urls.py"):
        shutil.copy(ROOT / "bench" / name, target / "bench" / name)
    return target


def _drive(server: "Gunicorn", use_wrk: bool, **kwargs) -> dict:
    booted = server.workers_booted()
    result = run_wrk(server.url, **kwargs) if use_wrk else PyLoad(server.url).run(**kwargs)
    result["workers_started"] = server.workers_booted() - booted
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--python-load", action="store_true", help="never use wrk")
    args = parser.parse_args()
    problem = "--python-load" if args.python_load else ensure_wrk()
    use_wrk = problem is None
    if not use_wrk:
        log(f"   wrk not used ({problem}): the Python load generator instead")
    setup_django()
    from django.db import connection

    from bench.data import BLOG_SLUG, body_pool, build_thread, load_thread
    from bench.writes import _drop_posts, _fresh_post
    from forum.models import Blog, Comment, visible_comment_q

    if connection.vendor != "postgresql":
        emit({"error": "not measured: the load run is for PostgreSQL"})
        return
    workers = int(os.environ.get("BENCH_WORKERS", "3"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "16"))
    max_requests = int(os.environ.get("BENCH_MAX_REQUESTS", "200000"))
    seconds = 3.0 if args.quick else 8.0
    pool = body_pool()
    post = _fresh_post(Blog.objects.get(slug=BLOG_SLUG), "load")
    redis = _redis_url()
    cache_env = (
        {"CACHE_URL": redis, "CACHE_KEY_PREFIX": f"bench-load-{os.getpid()}"}
        if redis
        else {"CACHE_URL": "locmem://"}
    )
    common = {
        "parents": [],
        "write_every": 0,
        "seconds": seconds,
        "connections": connections,
        "headers": {},
        "max_requests": max_requests,
    }
    runs = []

    def record(name: str, result: dict, extra: dict) -> None:
        result.update(name=name, workers=workers, cache=extra.get("CACHE_URL"))
        log(
            f"   {name}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"errors {result['errors']}, workers started {result['workers_started']}"
        )
        runs.append(result)

    try:
        load_thread(post, build_thread("two", 1_000, seed=21, n_bodies=len(pool)), pool)
        parents = list(
            # (visible: a reply under a hidden comment is refused, a 400 in the run)
            Comment.objects.filter(visible_comment_q(), post=post, removed_at__isnull=True)
            .order_by("path")
            .values_list("pk", flat=True)[:300]
        )
        connection.close()
        env = dict(os.environ)
        path = f"/api/posts/{post.pk}/comments/"
        baseline_ref = os.environ.get("BENCH_BASELINE_REF")
        with contextlib.ExitStack() as servers:
            server = servers.enter_context(Gunicorn({**env, **cache_env}, workers))
            baseline = None
            if baseline_ref:
                # The same thread served by the code at that ref, at once, with its own
                # keys in Redis (its cache layout differs), as the in-run baseline.
                base_env = {
                    **cache_env,
                    "CACHE_KEY_PREFIX": cache_env.get("CACHE_KEY_PREFIX", "bench") + "-baseline",
                }
                baseline = servers.enter_context(
                    Gunicorn({**env, **base_env}, workers, cwd=baseline_tree(baseline_ref))
                )
            with urllib.request.urlopen(server.url + path) as answer:  # noqa: S310
                page_bytes = len(answer.read())
            log(f"   page of 50: {page_bytes} bytes; {workers} workers, {connections} connections")
            bare = {**common, "path": "/bench/bare/", "query": f"?bytes={page_bytes}"}
            cached = {**common, "path": path, "query": ""}
            for round_number in (1, 2):
                record(
                    f"bare Django view, {page_bytes} bytes (round {round_number})",
                    _drive(server, use_wrk, **bare),
                    cache_env,
                )
                record(
                    f"thread page of 50, cached (round {round_number})",
                    _drive(server, use_wrk, **cached),
                    cache_env,
                )
                if baseline is not None:
                    record(
                        f"baseline ({baseline_ref}): thread page of 50, cached "
                        f"(round {round_number})",
                        _drive(baseline, use_wrk, **cached),
                        cache_env,
                    )
            record(
                "thread page of 50, cached, Accept-Encoding: gzip",
                _drive(server, use_wrk, **{**cached, "headers": {"Accept-Encoding": "gzip"}}),
                cache_env,
            )
            record(
                "90% thread reads (page of 50) + 10% replies posted",
                _drive(server, use_wrk, **{**cached, "parents": parents, "write_every": 10}),
                cache_env,
            )
        off = {**cache_env, "FORUM_THREAD_CACHE_SECONDS": "0"}
        with Gunicorn({**env, **off}, workers) as server:
            record("thread page of 50, cache off", _drive(server, use_wrk, **cached), off)
    finally:
        _drop_posts([post.pk])
        if redis:
            import redis as redis_client

            keys = redis_client.Redis.from_url(redis)
            for key in keys.scan_iter(f"{cache_env['CACHE_KEY_PREFIX']}*"):
                keys.delete(key)
    emit({"load": {"runs": runs, "page_bytes": page_bytes, "tool": runs[0]["tool"]}})


if __name__ == "__main__":
    main()
