"""Replay the stock ledger and compare every stock level with it."""

from django.core.management.base import BaseCommand

from stock.models import StockLevel
from stock.selectors import ledger_differences


class Command(BaseCommand):
    help = (
        "Replays the stock ledger, compares every stock level with it, names each "
        "difference and exits with status 1 when there is one."
    )

    def handle(self, *args, **options):
        differences = 0
        for level, replayed in ledger_differences():
            differences += 1
            if isinstance(level, StockLevel):
                self.stdout.write(
                    f"DIFFERENCE {level.location_label} {level.product.code} {level.state}: "
                    f"level says {level.quantity}, ledger says {replayed} "
                    f"(level id {level.pk})"
                )
            else:
                self.stdout.write(
                    f"DIFFERENCE stock level id {level} is missing; ledger says {replayed}"
                )
        checked = StockLevel.objects.count()
        if differences:
            self.stderr.write(
                self.style.ERROR(f"{differences} of {checked} stock levels disagree.")
            )
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"All {checked} stock levels match the ledger."))
