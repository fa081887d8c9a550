"""Read replicas (config/replicas.py): writers never read a replica that has not
replayed their writes, and a replica outage never answers 5xx (issue 17).

The tests marked ``replica`` make a real PostgreSQL primary and two real streaming
replicas (``initdb``, ``pg_basebackup -R``; ``tests/pgcluster.py``) and drive gunicorn
app servers on them over HTTP, clients told apart by ``X-Forwarded-For`` through a
trusted proxy (127.0.0.1). Replication lag is made with ``pg_wal_replay_pause()``:
what a replica has not replayed is what it would miss after any lag, and the app
servers run with every timer short (``REPLICA_PIN_SECONDS=1`` too, which no longer
means anything), so an answer that holds a second later holds thirty seconds later.
They run in the PostgreSQL pass of ``make test`` when the server binaries exist (one
cluster for the module: about 40 s on a loaded 2-core machine), and are skipped with
the reason otherwise.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest

from tests import pgcluster
from tests.openapi import check_live_response

# One cluster pair for the module: keep its tests on one xdist worker (make test runs
# pytest with --dist loadgroup).
pytestmark = [pytest.mark.replica, pytest.mark.xdist_group("replica")]

BINDIR = pgcluster.server_bindir()
REDIS_URL = "redis://127.0.0.1:6379/0"
SEED = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from forum.permissions import MODERATORS_GROUP
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
post = PostFactory(blog=BlogFactory(slug="lagging"))
make_comment(post, body="Before the lag.")
UserFactory(username="writer")
UserFactory(username="other")
mod = UserFactory(username="mod", is_staff=True)
mod.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
print(post.pk, Token.objects.create(user=mod).key)
"""
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
READS = re.compile(r"replicas: (GET|HEAD|OPTIONS) (\S+) reads (\S+)( \(retry\))?$", re.M)


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in command:
                found.append(command)
    return found


@pytest.fixture(scope="module")
def pair():
    if BINDIR is None:
        pytest.skip(
            "replica tests: no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) in "
            "/usr/lib/postgresql/*/bin or PG_BINDIR (apt-get install postgresql)"
        )
    if pgcluster.missing_os_user():
        pytest.skip(f"replica tests: {pgcluster.missing_os_user()}")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("replica tests run in the PostgreSQL pass of the suite (DATABASE_URL)")
    cluster = pgcluster.Cluster(BINDIR, replicas=2)
    with cluster.cleanup_on_exit():
        cluster.start_primary()
        assert _processes_mentioning(str(cluster.dir))  # (what the check below sees)
        yield cluster
    # Nothing is left behind: no server process, no directory.
    assert _processes_mentioning(str(cluster.dir)) == []
    assert not cluster.dir.exists()


@pytest.fixture(scope="module")
def base_env(pair):
    shared = _redis_answers()
    prefix = f"replica-test-{uuid.uuid4().hex[:12]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": pair.url(pair.primary_port),
        "DATABASE_REPLICA_URLS": ",".join(pair.url(port) for port in pair.replica_ports),
        # Several processes share positions through Redis, as app servers do; without
        # Redis one process keeps them in its own memory.
        "CACHE_URL": REDIS_URL if shared else "locmem://",
        "CACHE_KEY_PREFIX": prefix,
        "WEB_CONCURRENCY": "2" if shared else "1",
        "TRUSTED_PROXIES": "127.0.0.1",
        "FORUM_COMMENT_POLICY": "forum.policy.OpenPolicy",
        "LOG_LEVEL": "DEBUG",
        "REPLICA_PIN_SECONDS": "1",
        "REPLICA_CHECK_SECONDS": "0.2",
        "REPLICA_RETRY_SECONDS": "1",
        "REPLICA_MAX_LAG_SECONDS": "3600",
        **{
            f"RATE_LIMIT_{scope}": ""
            for scope in (
                "COMMENT_ANON",
                "COMMENT_USER",
                "COMMENT_NEW_ACCOUNT",
                "WRITE_ANON",
                "WRITE_USER",
                "LOGIN",
            )
        },
    }
    # Migrate and seed the primary while the replicas are copied from it (they replay
    # the rest).
    seeding = pgcluster.manage(env, "shell", "-c", SEED)
    try:
        pair.start_replicas()
    finally:
        post_id, mod_token = pgcluster.finish(seeding).split()[-2:]
    env["_POST"], env["_MOD_TOKEN"] = post_id, mod_token
    pair.wait_replayed()
    try:
        yield env
    finally:
        if shared:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)


def _start(pair, env: dict[str, str], name: str, **overrides: str) -> pgcluster.AppServer:
    run_env = {key: value for key, value in env.items() if not key.startswith("_")}
    return pgcluster.AppServer({**run_env, **overrides}, pair.dir / f"{name}.log")


@pytest.fixture(scope="module")
def server(pair, base_env):
    app = _start(pair, base_env, "server")
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def live(pair):
    """Replay running and caught up before and after each test."""
    pair.resume_replay()
    pair.wait_replayed()
    yield pair
    for number in range(len(pair.replica_ports)):
        if not pair.replica_answers(number):
            pair.start_replica(number)
    pair.resume_replay()


class Client:
    """One user agent: its own address (X-Forwarded-For), cookies and credentials."""

    def __init__(
        self, app: pgcluster.AppServer, ip: str, *, token: str | None = None, scheme="Token"
    ) -> None:
        import requests

        self.app = app
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = ip
        if token:
            self.http.headers["Authorization"] = f"{scheme} {token}"

    def request(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.app.url + path, timeout=30, **kwargs)
        check_live_response(response, self.app.url)
        return response

    def get(self, path: str, **headers: str):
        return self.request("GET", path, headers=headers)

    def post(self, path: str, json: dict, **headers: str):
        return self.request("POST", path, json=json, headers=headers)


def _token(app, ip: str, username: str) -> str:
    response = Client(app, ip).post(
        "/api/auth/token/", {"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _on_replica(pair, sql: str, params=()) -> int:
    with pair.connect(pair.replica_ports[0]) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.text
    return {comment["id"] for comment in response.json()["results"]}


def test_a_new_token_and_a_new_session_work_at_once_while_the_replica_lags(live, server):
    live.pause_replay()
    token = _token(server, "198.51.100.1", "writer")
    # The replica has not seen the token: reading it there would answer 401.
    assert _on_replica(live, "SELECT count(*) FROM authtoken_token WHERE key = %s", [token]) == 0
    for attempt in range(6):  # both workers, and after the kept replica status expires
        scheme = ("Token", "Bearer")[attempt % 2]  # the same token, either word
        me = Client(server, f"203.0.113.{attempt}", token=token, scheme=scheme).get(
            "/api/accounts/me/"
        )
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "writer"
        time.sleep(0.25)

    # A login in the admin: the new session is remembered, not the pre-login cookie.
    browser = Client(server, "198.51.100.2")
    # (The login page itself needs collected static files; any 32-letter cookie is a
    # valid CSRF secret, echoed in the form as a browser does.)
    secret = uuid.uuid4().hex
    browser.http.cookies.set("csrftoken", secret)
    login = browser.request(
        "POST",
        "/admin/login/?next=/admin/",
        data={"username": "mod", "password": PASSWORD, "csrfmiddlewaretoken": secret},
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text
    session = browser.http.cookies["sessionid"]
    assert (
        _on_replica(live, "SELECT count(*) FROM django_session WHERE session_key = %s", [session])
        == 0
    )
    for _ in range(3):
        browser.http.headers["X-Forwarded-For"] = "203.0.113.200"  # elsewhere now
        me = browser.get("/api/accounts/me/")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "mod"
        time.sleep(0.25)


def test_writers_see_their_own_comment_however_far_the_replica_lags(live, server, base_env):
    post = base_env["_POST"]
    thread = f"/api/comments/?post={post}&page_size=200"
    token = _token(server, "198.51.100.10", "other")
    live.pause_replay()

    by_token = Client(server, "198.51.100.11", token=token)
    made = by_token.post(f"/api/posts/{post}/comments/", {"body": "Mine, by token."})
    assert made.status_code == 201, made.text

    with_edit_token = Client(server, "198.51.100.12")
    anonymous = with_edit_token.post(f"/api/posts/{post}/comments/", {"body": "Mine, edit token."})
    assert anonymous.status_code == 201, anonymous.text
    edit_token = anonymous.json()["edit_token"]
    elsewhere = Client(server, "198.51.100.99")  # the same poster, another network

    by_network = Client(server, "198.51.100.13")
    noted = by_network.post(f"/api/posts/{post}/comments/", {"body": "Mine, by network."})
    assert noted.status_code == 201, noted.text

    ids = [made.json()["id"], anonymous.json()["id"], noted.json()["id"]]
    assert (
        _on_replica(live, "SELECT count(*) FROM forum_comment WHERE id = ANY(%s)", [ids]) == 0
    )  # the replica lags behind all three

    reader = Client(server, "203.0.113.50")
    for _ in range(2):  # now, and once every kept status and retry mark has expired
        assert by_token.get(f"/api/comments/{ids[0]}/").status_code == 200
        assert ids[0] in _ids(by_token.get(thread))
        assert (
            elsewhere.get(f"/api/comments/{ids[1]}/", **{"X-Edit-Token": edit_token}).json()["id"]
            == ids[1]
        )
        assert ids[1] in _ids(with_edit_token.get(thread))
        assert by_network.get(f"/api/comments/{ids[2]}/").status_code == 200
        assert ids[2] in _ids(by_network.get(thread))
        # Anybody else reads the lagging replica: bounded staleness, and proof that the
        # replica still serves (so the writers above were sent to the primary by their
        # positions, not because the replica was skipped).
        assert _ids(reader.get(thread)).isdisjoint(ids)
        assert reader.get(f"/api/comments/{ids[0]}/").status_code == 404
        time.sleep(1.5)

    live.resume_replay()
    live.wait_replayed()
    time.sleep(0.3)  # the servers' kept replica status (REPLICA_CHECK_SECONDS) expires
    assert set(ids) <= _ids(reader.get(thread))


def _read_endpoints(env: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    post = env["_POST"]
    mod = {"Authorization": f"Token {env['_MOD_TOKEN']}"}
    return [
        ("/api/blogs/", {}),
        ("/api/blogs/lagging/", {}),
        ("/api/posts/", {}),
        (f"/api/posts/{post}/", {}),
        (f"/api/posts/{post}/comments/", {}),
        (f"/api/comments/?post={post}", {}),
        ("/api/accounts/me/", mod),
        ("/api/accounts/me/export/", mod),
        ("/api/moderation/queue/", mod),
        ("/api/moderation/log/", mod),
        ("/api/moderation/bans/", mod),
        ("/api/", {}),
        ("/api/schema/", {}),
        ("/feeds/blogs/lagging/posts.atom", {}),
        ("/feeds/blogs/lagging/comments.atom", {}),
        (f"/feeds/posts/{post}/comments.atom", {}),
        # (/api/docs/ and the admin need collected static files, which tests do not make.)
    ]


def _reads_since(app: pgcluster.AppServer, offset: int) -> list[tuple[str, str, bool]]:
    return [(match[2], match[3], bool(match[4])) for match in READS.finditer(app.log()[offset:])]


def _failover(live, app: pgcluster.AppServer, env: dict[str, str]) -> None:
    reader = Client(app, "203.0.113.70")
    comment = reader.get(f"/api/comments/?post={env['_POST']}").json()["results"][0]["id"]
    guest = reader.post(
        "/api/guest-posts/",
        {"blog": "lagging", "title": "A guest post", "body": "Its body.", "author_name": "G"},
    )
    assert guest.status_code == 201, guest.text
    endpoints = [
        *_read_endpoints(env),
        (f"/api/comments/{comment}/", {}),
        (f"/api/guest-posts/{guest.json()['id']}/", {"X-Edit-Token": guest.json()["edit_token"]}),
    ]

    def read_all() -> list[tuple[str, int]]:
        errors = []
        for _ in range(3):
            for path, headers in endpoints:
                response = reader.get(path, **headers)
                if response.status_code != 200:
                    errors.append((path, response.status_code))
            time.sleep(0.6)  # rounds span REPLICA_RETRY_SECONDS: stopped ones are retried
        return errors

    for path, headers in endpoints:  # warm: connections to the replicas are open
        assert reader.get(path, **headers).status_code == 200, path

    live.stop_replica(0)  # replica_1: the other one serves
    offset = len(app.log())
    assert read_all() == []
    chosen = {db for _, db, retry in _reads_since(app, offset) if not retry}
    assert "replica_2" in chosen

    live.stop_replica(1)  # both: the primary serves
    offset = len(app.log())
    assert read_all() == []
    served = _reads_since(app, offset)
    assert ("/api/posts/", "default", False) in served
    assert {db for _, db, retry in served if retry} <= {"default"}

    live.start_replica(0)
    live.start_replica(1)
    back: set[str] = set()
    deadline = time.monotonic() + 15
    while back != {"replica_1", "replica_2"}:  # reads return once the skip marks expire
        offset = len(app.log())
        assert reader.get("/api/posts/").status_code == 200
        back |= {db for _, db, _ in _reads_since(app, offset)} - {"default"}
        assert time.monotonic() < deadline, app.log()[-3000:]
        time.sleep(0.1)


def test_with_replicas_stopped_every_read_answers_200_and_reads_come_back(live, server, base_env):
    _failover(live, server, base_env)


def test_a_replica_failing_mid_request_is_retried_on_the_primary(live, pair, base_env):
    # The replica's status is kept for an hour here, so nothing checks it before the
    # view runs: the first query on the dead replica fails inside the view.
    app = _start(
        pair,
        base_env,
        "kept",
        DATABASE_REPLICA_URLS=pair.url(pair.replica_ports[0]),
        REPLICA_CHECK_SECONDS="3600",
        WEB_CONCURRENCY="1",
    )
    try:
        reader = Client(app, "203.0.113.80")
        assert reader.get("/api/posts/").status_code == 200
        live.stop_replica(0)
        offset = len(app.log())
        response = reader.get("/api/posts/")
        assert response.status_code == 200, response.text
        assert _reads_since(app, offset) == [
            ("/api/posts/", "replica_1", False),
            ("/api/posts/", "default", True),
        ]
        assert "replica_1 skipped for 1 s: OperationalError" in app.log()
        assert reader.get("/api/blogs/").status_code == 200
    finally:
        app.stop()


def test_a_replica_lagging_beyond_the_limit_is_skipped(live, pair, base_env):
    app = _start(
        pair,
        base_env,
        "strict",
        DATABASE_REPLICA_URLS=pair.url(pair.replica_ports[0]),
        REPLICA_MAX_LAG_SECONDS="1",
        WEB_CONCURRENCY="1",
    )
    try:
        post = base_env["_POST"]
        reader = Client(app, "203.0.113.90")
        thread = f"/api/comments/?post={post}&page_size=200"
        offset = len(app.log())
        reader.get(thread)
        assert ("/api/comments/", "replica_1", False) in _reads_since(app, offset)

        live.pause_replay()
        time.sleep(1.2)
        made = Client(app, "198.51.100.90").post(
            f"/api/posts/{post}/comments/", {"body": "While the replica stalls."}
        )
        assert made.status_code == 201
        time.sleep(1.2)  # the last replayed transaction is now over a second old
        assert made.json()["id"] in _ids(reader.get(thread))  # the primary answered
        assert "replica_1 skipped for 1 s:" in app.log()
    finally:
        app.stop()


def test_a_mixed_run_reads_lists_from_the_replicas_and_writers_read_their_writes(
    live, server, base_env
):
    post = base_env["_POST"]
    thread = f"/api/comments/?post={post}&page_size=200"
    writers = [
        Client(server, "198.51.100.30", token=_token(server, "198.51.100.30", "writer")),
        Client(server, "198.51.100.31"),
        Client(server, "198.51.100.32"),
    ]
    readers = [Client(server, f"203.0.113.{100 + n}") for n in range(6)]
    lists = ("/api/posts/", "/api/blogs/", thread)

    def run(rounds: int, phase: str) -> tuple[int, int, int]:
        """(requests, errors: any status but the one expected, writes not read back)"""
        requests = errors = missed = 0
        for round_ in range(rounds):
            writer = writers[round_ % len(writers)]
            made = writer.post(f"/api/posts/{post}/comments/", {"body": f"Mixed {phase} {round_}."})
            own = writer.get(thread)
            requests += 2
            errors += (made.status_code != 201) + (own.status_code != 200)
            missed += made.status_code == 201 and made.json()["id"] not in _ids(own)
            for number, reader in enumerate(readers):
                requests += 1
                errors += reader.get(lists[(round_ + number) % len(lists)]).status_code != 200
        return requests, errors, missed

    offset = len(server.log())
    requests, errors, missed = run(30, "streaming")
    assert (errors, missed) == (0, 0)
    served = [
        db for path, db, retry in _reads_since(server, offset)
        if path in ("/api/posts/", "/api/blogs/", "/api/comments/") and not retry
    ]  # fmt: skip
    on_replicas = len(served) - served.count("default")
    share = on_replicas / len(served)
    print(f"\nmixed run: {on_replicas} of {len(served)} list reads ({share:.0%}) served by "
          f"the replicas ({served.count('replica_1')} replica_1, "
          f"{served.count('replica_2')} replica_2)")  # fmt: skip
    assert len(served) == 30 * (len(readers) + 1)
    assert share > 0.7
    assert served.count("replica_1") and served.count("replica_2")  # both take reads

    live.stop_replica(0)
    live.stop_replica(1)
    requests, errors, missed = run(10, "stopped")
    print(f"mixed run, both replicas stopped: {errors} errors in {requests} requests")
    assert (errors, missed) == (0, 0)


def test_a_server_that_is_not_a_standby_is_never_read_as_a_replica(live, pair, base_env):
    # A promoted replica no longer receives the primary's writes; here the "replica"
    # is the primary itself, which is just as much not a standby.
    app = _start(
        pair,
        base_env,
        "promoted",
        DATABASE_REPLICA_URLS=pair.url(pair.primary_port),
        WEB_CONCURRENCY="1",
    )
    try:
        offset = len(app.log())
        assert Client(app, "203.0.113.95").get("/api/posts/").status_code == 200
        assert _reads_since(app, offset) == [("/api/posts/", "default", False)]
        assert "replica_1 skipped for 1 s: not a standby" in app.log()
    finally:
        app.stop()


def test_mail_links_read_the_primary(live, server):
    # The worker signs them right after the write they name; no caller's position
    # covers them, and a lagging replica would call a fresh link broken.
    offset = len(server.log())
    page = Client(server, "203.0.113.97").get("/notify/unsubscribe/no-such-token/")
    assert page.status_code in (400, 404), page.status_code
    assert _reads_since(server, offset) == [
        ("/notify/unsubscribe/no-such-token/", "default", False)
    ]
