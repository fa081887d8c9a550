"""The peer: the same thread served by django-comments-xtd, against ours.

``python -m bench.xtd`` (SQLite environment, set by ``bench.run``):

1. makes ``bench/.venv-xtd`` (``python3 -m venv``) and installs django-comments-xtd,
   Django 5.2 and DRF into it from PyPI, once;
2. exports the bench's ``two:1000`` thread (the generator is deterministic) to
   ``bench/.data/xtd-thread.json``;
3. runs ``bench/xtd_peer/run.py`` in that venv: it loads the thread through
   django-comments-xtd's own ``XtdComment.save()`` and times the package's REST
   endpoint (every public comment, flat in thread order with ``parent_id``/``level``);
4. times ours on the same thread (one page of 200 top-level comments: all of them),
   thread cache off, and prints the ratio; then ours with the page cached (local
   memory), for the record.

When the venv cannot be made (no network, no PyPI) the result says why.
"""

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time

from bench.common import BENCH, DATA_DIR, emit, log, setup_django

VENV = BENCH / ".venv-xtd"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ["django-comments-xtd", "Django>=5.2,<5.3", "djangorestframework"]


def ensure_venv() -> str | None:
    """None when the peer's venv is ready, else why it is not."""
    check = [str(PYTHON), "-c", "import django_comments_xtd, rest_framework, django"]
    if PYTHON.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return None
    log("   making bench/.venv-xtd and installing django-comments-xtd from PyPI")
    steps = [
        ["python3", "-m", "venv", str(VENV)],
        [str(PYTHON), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return f"`{' '.join(step[:4])} ...` failed: {lines[-1] if lines else done.returncode}"
    return None


def export_thread(path) -> dict:
    from bench.data import GEN_VERSION, body_pool, build_thread

    pool = body_pool()
    nodes = build_thread("two", 1_000, n_bodies=len(pool))
    index = {id(node): i for i, node in enumerate(nodes)}
    comments = [
        {
            "parent": index[id(node.parent)] if node.parent is not None else None,
            "name": node.author_name,
            "body": pool[node.body][0],
            "created_at": node.created_at.isoformat(),
            "public": node.status == "approved",
            "removed": node.removed_at is not None,
        }
        for node in nodes
    ]
    export = {"key": f"bench:v{GEN_VERSION}:two:1000", "comments": comments}
    path.write_text(json.dumps(export))
    return export


def time_ours(runs: int) -> float:
    from django.test import Client

    from bench.data import post_key, thread_ids

    url = f"/api/posts/{thread_ids()[post_key('two', 1_000)]}/comments/?page_size=200"
    client = Client()
    for _ in range(3):
        assert client.get(url).status_code == 200
    gc.collect()
    gc.freeze()
    samples = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter_ns()
        client.get(url)
        samples.append(time.perf_counter_ns() - t0)
    gc.unfreeze()
    return statistics.median(samples) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 10 if args.quick else 30
    problem = ensure_venv()
    if problem is not None:
        emit({"error": f"not measured: {problem}"})
        return
    setup_django()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "xtd-thread.json"
    export_thread(path)
    done = subprocess.run(
        [str(PYTHON), str(BENCH / "xtd_peer" / "run.py"), str(path), str(runs)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        emit({"error": f"not measured: the peer failed: {lines[-1] if lines else '?'}"})
        return
    peer = json.loads(done.stdout.strip().splitlines()[-1])
    if peer.get("load_seconds"):
        log(f"   loaded the thread into django-comments-xtd in {peer['load_seconds']} s")
    ours_ms = time_ours(runs)
    from django.test.utils import override_settings

    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        ours_cached_ms = time_ours(runs)
    peer.update(
        ours_cached_ms=round(ours_cached_ms, 3),
        ratio_cached=round(peer["theirs_ms"] / ours_cached_ms, 1),
        shape="two",
        size=1_000,
        page_size=200,
        ours_ms=round(ours_ms, 3),
        theirs_ms=round(peer["theirs_ms"], 3),
        ratio=round(peer["theirs_ms"] / ours_ms, 2),
    )
    log(f"   theirs {peer['theirs_ms']:.2f} ms, ours {ours_ms:.2f} ms: {peer['ratio']}x")
    emit({"peer": peer})


if __name__ == "__main__":
    sys.exit(main())
