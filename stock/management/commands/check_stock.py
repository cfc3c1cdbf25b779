"""Replay the stock ledger and compare every stock level with it; then the checks the
layers above register (stock.checks_registry): sales' holdings and conservation of
cylinders (invariant 11). All in one snapshot."""

from django.core.management.base import BaseCommand

from stock.checks_registry import check_snapshot, stock_checks
from stock.models import StockLevel
from stock.selectors import ledger_differences, vehicle_depot_differences


class Command(BaseCommand):
    help = (
        "Replays the stock ledger, compares every stock level with it (its quantity, and "
        "for a vehicle the depot its stock belongs to), replays each customer's cylinders "
        "held from their ledger, and proves per cylinder product that depots + vehicles + "
        "customers = receipts - plant dispatches + adjustments - write-offs; names each "
        "difference and exits with status 1 when there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair-empty-vehicles",
            action="store_true",
            help="First move every empty vehicle level that still carries a depot its "
            "representative left (a move made before vehicles moved with their "
            "representative) to the representative's home depot. Levels holding "
            "stock are never changed.",
        )

    def handle(self, *args, repair_empty_vehicles=False, **options):
        if repair_empty_vehicles:
            self._repair_empty_vehicles()
        with check_snapshot():
            failed = self._levels()
            for check in stock_checks:
                outcome = check()
                for line in outcome.differences:
                    self.stdout.write(line)
                if outcome.differences:
                    failed.append(outcome.summary)
                else:
                    self.stdout.write(self.style.SUCCESS(outcome.summary))
        if failed:
            for line in failed:
                self.stderr.write(self.style.ERROR(line))
            raise SystemExit(1)

    def _levels(self) -> list[str]:
        """The stock ledger's own check; returns the failure summary (or nothing)."""
        differences = set()  # the levels that disagree, in one way or another
        for level, replayed in ledger_differences():
            differences.add(level.pk if isinstance(level, StockLevel) else level)
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
        for kind, level, depot, quantity in vehicle_depot_differences():
            differences.add(level.pk)
            self.stdout.write(self._depot_difference(kind, level, depot, quantity))
        checked = StockLevel.objects.count()
        if differences:
            return [f"{len(differences)} of {checked} stock levels disagree."]
        self.stdout.write(self.style.SUCCESS(f"All {checked} stock levels match the ledger."))
        return []

    @staticmethod
    def _depot_difference(kind, level, depot, quantity) -> str:
        where = f"DEPOT MISMATCH {level.location_label} {level.product.code} {level.state}"
        labelled = f"labelled depot {level.depot.code}"
        rep = level.sales_rep.username
        if kind == "ledger":
            return (
                f"{where}: {labelled}, but the ledger put {quantity} of its cylinders on "
                f"it at depot {depot.code} (level id {level.pk})"
            )
        if depot is None:
            return (
                f"{where}: {labelled}, holds {quantity}, but {rep} is no longer a sales "
                f"representative with a home depot (level id {level.pk})"
            )
        hint = " (empty: --repair-empty-vehicles moves it)" if quantity == 0 else ""
        return (
            f"{where}: {labelled}, holds {quantity}, but {rep} works from depot "
            f"{depot.code} (level id {level.pk}){hint}"
        )

    def _repair_empty_vehicles(self):
        from django.db import transaction

        from core.models import User
        from stock.services import vehicle_levels_follow

        reps = {
            level.sales_rep_id
            for kind, level, depot, quantity in vehicle_depot_differences()
            if kind == "home" and depot is not None and quantity == 0
        }
        moved = 0
        for rep in User.objects.filter(pk__in=reps).order_by("username"):
            with transaction.atomic():
                moved += vehicle_levels_follow(sales_rep=rep, empty_only=True)
        self.stdout.write(f"Moved {moved} empty vehicle levels to their home depot.")
