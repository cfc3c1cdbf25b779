"""Prove that receivables add up: sales.money_checks, in one snapshot."""

from django.core.management.base import BaseCommand

from sales.money_checks import MONEY_CHECKS
from stock.checks_registry import check_snapshot


class Command(BaseCommand):
    help = (
        "Checks that every credit sale's amount paid and every payment's allocated amount "
        "are the sums of their allocations, and that no customer has money on account "
        "(payments or deposit refunds credited) beside an unpaid sale; names each "
        "difference and exits with status 1 when there is one."
    )

    def handle(self, *args, **options):
        failed = []
        with check_snapshot():
            for check in MONEY_CHECKS:
                outcome = check()
                for line in outcome.differences:
                    self.stdout.write(line)
                if outcome.differences:
                    failed.append(outcome.summary)
                else:
                    self.stdout.write(self.style.SUCCESS(outcome.summary))
        for line in failed:
            self.stderr.write(self.style.ERROR(line))
        if failed:
            raise SystemExit(1)
