"""Thread versions a process has read, kept until Redis says they changed.

Server-assisted client-side caching (Redis 6 and later: ``HELLO 3``, ``CLIENT
TRACKING ON``): Redis remembers the keys this connection read and pushes an
``invalidate`` message on it when any of them changes (a bump deletes it, another
process makes a new one, it expires), or a ``null`` one when it forgets what it
tracked. Before each read the reader takes in every message waiting on its socket
(a non-blocking poll), so a version it returns from memory is one Redis has not
changed; a version it does not hold is read (one ``GET``), which also starts its
tracking. Redis writes the message in the same turn of its event loop as its reply
to the change, before another request could read. Any error drops the connection
and everything held: the next read starts afresh. This process forgets a key it
changed itself at once (``forget``), whatever the push. A connection that has been
quiet for a second is asked first (``PING``), so one cut off without a word is found
out within ``TRUST_SECONDS`` (and the socket's timeout).

redis-py keeps such a cache itself (``cache_config``) only for Redis 7.4 and later;
this is the same protocol on the connection redis-py opens, for any Redis 6+.
"""

import os
import threading
import time
from collections import OrderedDict
from typing import Any

from redis.connection import Connection
from redis.exceptions import RedisError

# Versions a process keeps (each a key and 12 bytes): the least recently read go first.
VERSIONS_KEPT = 20_000
# The longest the reader trusts a quiet connection: after this long without an answer
# from Redis it asks (PING) before serving from memory, so a connection cut off without
# a word (a partition) costs at most this long of staleness, then the socket's timeout.
TRUST_SECONDS = 1.0


class VersionReader:
    """Reads thread versions through one tracked RESP3 connection of its own (made
    with the connection settings of the ``redis`` client it is first given)."""

    def __init__(self, *, kept: int = VERSIONS_KEPT) -> None:
        self.kept = kept
        self.versions: OrderedDict[bytes, Any] = OrderedDict()
        self.connection: Connection | None = None
        self.made_for: tuple = ()
        self.lock = threading.Lock()
        self.heard_at = 0.0  # when Redis last answered on the connection

    def get(self, raw_key: str, redis: Any) -> Any:
        """The value of ``raw_key`` (bytes, or None when there is none)."""
        key = raw_key.encode()
        with self.lock:
            try:
                connection = self._connection(redis)
                while connection.can_read(timeout=0):  # what Redis said meanwhile
                    connection.read_response(push_request=True)
                now = time.monotonic()
                if now - self.heard_at > TRUST_SECONDS:
                    # Silence proves nothing on a connection that may be cut off: a
                    # PING's answer comes after every push Redis sent before it.
                    connection.send_command("PING")
                    connection.read_response()
                    self.heard_at = now
                if key in self.versions:
                    self.versions.move_to_end(key)
                    return self.versions[key]
                connection.send_command("GET", key)
                value = connection.read_response()
                self.heard_at = now
            except RedisError:
                self._drop()
                raise
            self.versions[key] = value
            if len(self.versions) > self.kept:
                self.versions.popitem(last=False)
            return value

    def forget(self, raw_key: str) -> None:
        with self.lock:
            self.versions.pop(raw_key.encode(), None)

    def _connection(self, redis: Any) -> Connection:
        pool = redis.connection_pool
        made_for = (os.getpid(), id(pool))  # a forked process makes its own
        if self.connection is not None and made_for == self.made_for:
            return self.connection
        self._drop()
        # The pool's own kind of connection (TLS for rediss://) with its settings, in
        # RESP3 (HELLO 3 on connect), which carries the pushes on the same connection.
        connection = pool.connection_class(**{**pool.connection_kwargs, "protocol": 3})
        connection.connect()
        connection.send_command("CLIENT", "TRACKING", "ON")
        connection.read_response()
        connection._parser.set_invalidation_push_handler(self._invalidated)
        self.connection, self.made_for = connection, made_for
        return connection

    def _invalidated(self, message: list) -> None:
        keys = message[1]
        if keys is None:  # Redis forgot what it tracked (a flush, a full table)
            self.versions.clear()
            return
        for key in keys:
            self.versions.pop(key, None)

    def _drop(self) -> None:
        self.versions.clear()
        if self.connection is not None:
            try:
                self.connection.disconnect()
            finally:
                self.connection = None
