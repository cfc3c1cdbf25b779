"""List filters of the stock screens: the vehicle, depot or vehicle stock, and the product
of a document's lines."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Exists, OuterRef

from core.models import Depot, Role, User
from core.scoping import scope_queryset
from stock.models import DistributionLine, Product, ProductKind
from stock.selectors import depot_movements_filter


class VehicleFilter(admin.SimpleListFilter):
    title = "vehicle"
    parameter_name = "vehicle"

    def lookups(self, request, model_admin):
        reps = scope_queryset(User.objects.filter(role=Role.SALES), request.user)
        return [
            (r.pk, f"{r.vehicle_no or 'no vehicle'} ({r.username})")
            for r in reps.order_by("username")
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        # The URL gives text; "Show counts" sets the choice itself (an integer pk).
        value = str(self.value())
        if value not in {str(pk) for pk, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"Unknown vehicle {value!r}.")
        return queryset.filter(sales_rep_id=value)


class MovementDepotFilter(admin.SimpleListFilter):
    """A depot's movements: those recorded at it and the transfers into it (a transfer
    is recorded at the sending depot). The parameter keeps the name of the plain depot
    filter it replaces, so saved links still work."""

    title = "depot"
    parameter_name = "depot__id__exact"

    def lookups(self, request, model_admin):
        depots = scope_queryset(Depot.objects.all(), request.user).order_by("code")
        return [(d.pk, str(d)) for d in depots]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        value = str(self.value())
        if value not in {str(pk) for pk, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"Unknown depot {value!r}.")
        return queryset.filter(depot_movements_filter([int(value)]))


class LocationTypeFilter(admin.SimpleListFilter):
    title = "location"
    parameter_name = "location"

    def lookups(self, request, model_admin):
        return [("depot", "Depots"), ("vehicle", "Vehicles")]

    def queryset(self, request, queryset):
        if self.value() == "depot":
            return queryset.filter(sales_rep__isnull=True)
        if self.value() == "vehicle":
            return queryset.filter(sales_rep__isnull=False)
        return queryset


class LineProductFilter(admin.SimpleListFilter):
    """Distributions with a line of this product (a load sheet carries several)."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        return [(str(p.pk), p.code) for p in Product.objects.filter(kind=ProductKind.CYLINDER)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        value = str(self.value())
        if value not in {pk for pk, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"Unknown product {value!r}.")
        lines = DistributionLine.objects.filter(distribution=OuterRef("pk"), product_id=value)
        return queryset.filter(Exists(lines))
