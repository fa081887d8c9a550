"""gunicorn settings: ``gunicorn config.wsgi -c config/gunicorn.py``.

Everything can be changed from the environment (README, "Production deployment"):

| variable | default | meaning |
|---|---|---|
| ``GUNICORN_BIND`` | ``0.0.0.0:$PORT`` (``PORT`` 8000) | where to listen |
| ``WEB_CONCURRENCY`` | 2 x CPUs + 1 | worker processes |
| ``GUNICORN_THREADS`` | 1 | threads per worker (more than 1: ``gthread`` workers) |
| ``GUNICORN_TIMEOUT`` | 30 | seconds before a stuck worker is restarted |
| ``GUNICORN_MAX_REQUESTS`` | 50000 | requests before a worker is recycled (plus jitter; 0: never) |
| ``GUNICORN_MAX_REQUESTS_JITTER`` | half of it | a random 0 to this is added per worker |
| ``GUNICORN_ACCESS_LOG`` | off | ``1``: access log on stdout |
| ``FORWARDED_ALLOW_IPS`` | ``127.0.0.1`` | proxies whose ``X-Forwarded-*`` gunicorn believes |

Sync workers suit a deployment behind a buffering reverse proxy (nginx, a load
balancer): the proxy absorbs slow clients, each worker serves one request at a time.

Recycling: a worker is replaced after its limit of requests, a safety net against
slow memory growth, not a routine. A restart costs a fresh interpreter loading
Django and the app (about a second of CPU) while the other workers carry its share,
so it shows as a tail of slow requests; every few thousand requests it dominated
the p99 (bench/README.md). The limit is high, and the jitter (up to half of it,
drawn per worker) spreads the workers' restarts apart so that they never recycle
together. Each new worker loads what the first request would otherwise load (the
URL resolver, the API views) before it takes requests.
"""

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or 8000}"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") in ("1", "true", "yes") else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# A worker loads the app after the fork: a crash at import shows up in that worker
# and a restart of the master reloads code.
preload_app = False


def post_worker_init(worker) -> None:
    # Load now what the first request would load: the URL patterns and every view
    # module they name, compiled.
    from django.urls import resolve, reverse

    resolve(reverse("post-thread", args=[1]))
    # Everything loaded so far (Django, the app, the URL resolver) lives as long as
    # the worker: move it out of the garbage collector's sight, so that collections
    # during a request walk only what the request made (the thread page builds
    # thousands of objects per request).
    gc.collect()
    gc.freeze()
