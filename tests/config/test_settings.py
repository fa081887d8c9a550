"""Settings as a deployment gets them: from the environment only."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k9$Vd2!mQ7@pL4#xR8^zT1&wN6*yB3(cF5)hJ0_sG-eU+aK=oI]",
    "ALLOWED_HOSTS": "forum.example.org",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_only_the_three_required_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout


def test_a_missing_secret_key_stops_a_production_start():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DEBUG"}
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.django_db
def test_responses_carry_security_headers(client):
    response = client.get("/api/blogs/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("debug", ["0", "1"])
def test_a_log_line_is_printed_once_whatever_debug_is(debug):
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('django.request').warning('a-log-line')",
        env={**PRODUCTION_ENV, "DEBUG": debug},
    )
    assert result.stderr.count("a-log-line") == 1, result.stderr


@pytest.mark.parametrize("jit", ["", "1"])
def test_postgres_connections_run_without_jit_unless_asked(jit):
    """JIT compilation cost a thread page 36 ms of its 38: the app's connections turn
    it off (``DATABASE_JIT=1`` leaves the server's setting)."""
    url = "postgres://postgres@127.0.0.1:5432/test"
    env = {**PRODUCTION_ENV, "DATABASE_URL": url, "DATABASE_JIT": jit}
    probe = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW jit')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    result = manage("shell", "-c", probe, env=env)
    if "could not connect" in result.stderr or "Connection refused" in result.stderr:
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    if jit:
        import psycopg

        with psycopg.connect(url) as conn:  # the server's own setting
            expected = conn.execute("SHOW jit").fetchone()[0]
    else:
        expected = "off"
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
