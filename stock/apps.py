from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "stock"
    verbose_name = "Stock"

    def ready(self):
        from core.services import assignment_guards
        from stock.selectors import vehicle_transfer_guard

        if vehicle_transfer_guard not in assignment_guards:
            assignment_guards.append(vehicle_transfer_guard)
