import time

from django.core.management.base import CommandError

from performance.appraisal.models import AppraisalCycle, CycleState
from performance.appraisal.services import cycle_close
from performance.management.base import ProductCommand, clear_errors


class Command(ProductCommand):
    help = "Hand the cycle's close to Celery (metrics, scores, grades, payouts); closing again recomputes."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--wait", action="store_true", help="block until done; fail if the close failed")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait at most (with --wait)")

    def handle(self, name, wait=False, timeout=3600, **options):
        cycle = AppraisalCycle.objects.filter(name=name).first()
        if cycle is None:
            raise CommandError(f"no cycle named {name}")
        try:
            with clear_errors():
                cycle = cycle_close(cycle=cycle)
        except CommandError:
            raise
        except Exception as exc:  # the in-process close ran and failed
            cycle.refresh_from_db()
            raise CommandError(f"close of {name} failed: {cycle.error or exc}") from exc
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
