import time

from django.conf import settings
from django.core.management.base import CommandError

from performance.appraisal import runs
from performance.appraisal.models import CycleState
from performance.appraisal.services import cycle_close
from performance.management.base import ProductCommand, acting_login, clear_errors, cycle_named


class Command(ProductCommand):
    help = "Hand the cycle's close to Celery (metrics, scores, grades, payouts); closing again recomputes."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--wait", action="store_true", help="block until done; fail if the close failed")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait at most (with --wait)")
        parser.add_argument(
            "--retry", action="store_true", help="start again a close that failed or stalled (a new run)"
        )
        parser.add_argument("--user", help="the login recorded as the one who closed it")

    def handle(self, name, wait=False, timeout=3600, retry=False, user=None, **options):
        cycle = cycle_named(name)
        actor = acting_login(user) if user else None
        try:
            with clear_errors():
                cycle = cycle_close(cycle=cycle, actor=actor, retry=retry)
        except CommandError:
            raise
        except Exception as exc:  # the in-process close ran and failed
            cycle.refresh_from_db()
            raise CommandError(f"close of {name} failed: {cycle.error or exc}") from exc
        waiting = 0 if settings.CELERY_TASK_ALWAYS_EAGER else runs.waiting(cycle)  # no broker, nothing to reach
        if waiting:
            raise CommandError(
                f"the close of {name} is recorded (run {cycle.close_run}), but the message broker is not reachable: "
                f"its {waiting} chunks wait, and the watchdog hands them to the workers when the broker is back; "
                "start Redis or RabbitMQ, or fix CELERY_BROKER_URL"
            )
        if not wait:
            self.stdout.write(f"close of {name} handed to the workers (run {cycle.close_run})")
            return
        deadline = time.monotonic() + timeout
        while True:
            cycle.refresh_from_db()
            if cycle.state in (CycleState.REVIEW, CycleState.FINALIZED):
                self.stdout.write(f"cycle {name} closed: {cycle.appraisals.count()} appraisals, now in review")
                return
            if cycle.state == CycleState.FAILED:
                raise CommandError(f"close of {name} failed: {cycle.error}")
            if time.monotonic() > deadline:
                raise CommandError(
                    f"close of {name} still running after {timeout}s ({cycle.progress_done}/{cycle.progress_total})"
                )
            time.sleep(0.2)
