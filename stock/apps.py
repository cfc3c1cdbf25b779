from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "stock"
    verbose_name = "Stock"

    def ready(self):
        from core.services import assignment_guards
        from stock.services import vehicle_transfer_guard

        if vehicle_transfer_guard not in assignment_guards:
            assignment_guards.append(vehicle_transfer_guard)

        # An empty vehicle moves with its representative when their depot changes.
        from django.db.models.signals import m2m_changed

        from core.models import User
        from stock.services import user_depots_changed

        m2m_changed.connect(
            user_depots_changed, sender=User.depots.through, dispatch_uid="stock.vehicle"
        )
