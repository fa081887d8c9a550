"""A throwaway PostgreSQL primary with streaming replicas, and app servers on it.

``Cluster`` runs ``initdb``, and ``pg_basebackup -R`` once per replica, with the
machine's server binaries (``PG_BINDIR``, else the newest ``/usr/lib/postgresql/*/bin``)
in a temporary directory, as the ``postgres`` OS user when the tests run as root
(PostgreSQL refuses to run as root), on free loopback ports; ``close()`` stops every
server (immediate shutdown) and removes the directory, whatever happened before.
``AppServer`` runs gunicorn on it. Used by tests marked ``replica``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "forum"
SHM = "/dev/shm"  # noqa: S108 (mkdtemp makes a private directory in it)


def server_bindir() -> Path | None:
    """Where initdb, pg_ctl and pg_basebackup are, or None."""
    configured = os.environ.get("PG_BINDIR")
    candidates = (
        [configured]
        if configured
        else sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2])
        )
    )
    for candidate in reversed(candidates):
        path = Path(candidate)
        if all(os.access(path / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return path
    return None


def scratch_dir() -> str | None:
    """Where the clusters go: ``REPLICA_TEST_TMPDIR``, else /dev/shm when it is a
    roomy tmpfs (a disk mounted with ``discard`` takes seconds to delete a cluster),
    else the usual temporary directory."""
    configured = os.environ.get("REPLICA_TEST_TMPDIR")
    if configured:
        return configured
    with contextlib.suppress(OSError):
        stats = os.statvfs(SHM)
        if os.access(SHM, os.W_OK) and stats.f_bavail * stats.f_frsize > 2 * 1024**3:
            return SHM
    return None


def missing_os_user() -> str | None:
    """Why the servers cannot run here, or None (as root they run as ``postgres``)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "running as root and there is no 'postgres' OS user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


class Cluster:
    """A primary and ``replicas`` streaming replicas (numbered from 0)."""

    def __init__(self, bindir: Path, replicas: int = 1) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="forum-replica-test-", dir=scratch_dir()))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.primary_port = free_port()
        self.primary_data = self.dir / "primary"
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.replica_data = [self.dir / f"replica{n}" for n in range(replicas)]
        self.running: set[Path] = set()

    # --- processes ---------------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return command

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(  # noqa: S603
            self._command(tool, *args), check=True, capture_output=True, timeout=60, cwd=self.dir
        )

    def _pg_ctl_start(self, data: Path) -> None:
        self.running.add(data)  # (before: a half-started server is stopped too)
        self._run("pg_ctl", "-D", str(data), "-l", str(data) + ".log", "-w", "-t", "30", "start")

    def _pg_ctl_stop(self, data: Path, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(data), "-m", mode, "-w", "stop")
        self.running.discard(data)

    def start(self) -> None:
        self.start_primary()
        self.start_replicas()

    def start_primary(self) -> None:
        self._run("initdb", "-D", str(self.primary_data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync", "--wal-segsize=1")  # fmt: skip
        settings = (
            f"port = {self.primary_port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.dir}'\n"
            "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
            "max_connections = 40\nshared_buffers = 16MB\n"
            # Small WAL files, few kept: the directory stays small and quick to remove;
            # enough is kept for replicas copied while the primary is being migrated.
            "min_wal_size = 4MB\nmax_wal_size = 64MB\nwal_keep_size = 64MB\n"
        )
        with open(self.primary_data / "postgresql.conf", "a") as conf:
            conf.write(settings)
        self._pg_ctl_start(self.primary_data)
        with self.connect(self.primary_port, "postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def start_replicas(self) -> None:
        """Copy the primary (pg_basebackup -R) into each replica and start them."""
        for data, port in zip(self.replica_data, self.replica_ports, strict=True):
            self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
                      "-U", "postgres", "-D", str(data), "-R", "-X", "stream",
                      "-c", "fast", "--no-sync")  # fmt: skip
            with open(data / "postgresql.conf", "a") as conf:
                conf.write(f"port = {port}\n")
        for number in range(len(self.replica_data)):
            self.start_replica(number)

    def start_replica(self, number: int = 0) -> None:
        self._pg_ctl_start(self.replica_data[number])
        wait_for(lambda: self.replica_answers(number), timeout=30, what="the replica")

    def stop_replica(self, number: int = 0) -> None:
        self._pg_ctl_stop(self.replica_data[number], "immediate")

    @contextlib.contextmanager
    def cleanup_on_exit(self):
        """``close()`` when the block ends, however it ends: an exception, Ctrl-C, a
        SIGTERM (turned into SystemExit meanwhile), or the interpreter exiting."""
        atexit.register(self.close)
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            yield self
        finally:
            try:
                self.close()
            finally:
                atexit.unregister(self.close)
                if previous is not None:
                    signal.signal(signal.SIGTERM, previous)

    def close(self) -> None:
        # Every server at once: each pg_ctl waits for its own to be gone.
        stops = [
            subprocess.Popen(  # noqa: S603
                self._command("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for data in self.running
        ]
        for stop in stops:
            with contextlib.suppress(subprocess.TimeoutExpired):
                stop.wait(timeout=60)
        self.running.clear()
        if os.environ.get("REPLICA_TEST_KEEP_LOGS"):  # for debugging: keep the logs only
            for log in self.dir.glob("*.log"):
                shutil.copy(log, Path(tempfile.gettempdir()) / f"replica-test-{log.name}")
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- SQL -----------------------------------------------------------------------

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"

    def connect(self, port: int, dbname: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=dbname,
            autocommit=True, connect_timeout=3,
        )  # fmt: skip

    def replica_answers(self, number: int = 0) -> bool:
        try:
            with self.connect(self.replica_ports[number]) as conn:
                return conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        except psycopg.OperationalError:
            return False

    def pause_replay(self) -> None:
        """Stop every replica replaying (they still receive the WAL)."""
        for port in self.replica_ports:
            with self.connect(port) as conn:
                conn.execute("SELECT pg_wal_replay_pause()")
                wait_for(
                    lambda conn=conn: (
                        conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
                        == "paused"
                    ),
                    timeout=10,
                    what="replay to pause",
                )

    def resume_replay(self) -> None:
        for port in self.replica_ports:
            with self.connect(port) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")

    def wait_replayed(self) -> None:
        """Until every replica has replayed what the primary has written."""
        with self.connect(self.primary_port) as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        for port in self.replica_ports:
            with self.connect(port) as replica:
                wait_for(
                    lambda replica=replica: replica.execute(
                        "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
                    ).fetchone()[0],
                    timeout=30,
                    what="the replica to replay",
                )


class AppServer:
    """gunicorn (config/gunicorn.py) on 127.0.0.1, with the environment given."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.py"],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(self._answers, timeout=30, what="the app server", interval=0.1)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the app server exited:\n{self.log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def manage(env: dict[str, str], *args: str) -> subprocess.Popen:
    """``manage.py ARGS`` started; ``finish()`` its output."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> str:
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(process.args)} failed:\n{err}")
    return out
