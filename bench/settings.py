"""Settings of the HTTP bench's gunicorn (``bench/load.py``): the project's own
(``config.settings``, from the same environment) with one more URL, the bare view
(``bench/urls.py``). Nothing else differs, so the bare view runs through the same
server, workers and middleware as the thread read it is compared with."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
