"""``manage.py run_worker``: deliver mail and webhooks (notifications/worker.py).

Runs until stopped (SIGTERM or SIGINT ends it after the delivery in hand); with
``--once`` it delivers everything that is due and exits. Start one or more per
machine, on as many machines as you like (PostgreSQL: they share the work).
"""

import signal
import threading

from django.core.management.base import BaseCommand

from notifications import worker


class Command(BaseCommand):
    help = "Deliver queued mail and webhooks (with --once: what is due now, then exit)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Deliver everything that is due, then exit."
        )

    def handle(self, *args, once: bool = False, **options) -> None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        if not once:
            self.stdout.write("Worker started; stop it with Ctrl-C or SIGTERM.")
        worker.run(once=once, stop=stop)
