"""tools/check_service_writes.py: writes of business models outside services are found,
services, migrations and tests are not, and the allowlist only allows what it names."""

from pathlib import Path
from textwrap import dedent

import pytest

from tools.check_service_writes import exempt, judge, scan
from tools.service_writes_allowed import ALLOWED, Allowed

MODELS = """
    from django.contrib.auth.models import AbstractUser
    from django.db import models

    class Role(models.TextChoices):
        ADMIN = "ADMIN"

    class Depot(models.Model):
        code = models.CharField(max_length=10)

    class User(AbstractUser):
        depots = models.ManyToManyField(Depot)

    class Customer(models.Model):
        depot = models.ForeignKey(Depot, on_delete=models.PROTECT)

    class RateTable(Customer):
        class Meta:
            proxy = True
"""


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"core/models.py": MODELS, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))
    return root


def found(root: Path) -> set[tuple[str, int, str, str]]:
    return {(f.path, f.line, f.model, f.method) for f in scan(root, apps=("core", "sales"))}


def test_writes_outside_services_are_found_with_file_and_line(tmp_path):
    root = tree(
        tmp_path,
        {
            "core/demo.py": """
                from core.models import Depot, User
                from django.contrib.auth.models import Group

                def seed():
                    depot, _ = Depot.objects.update_or_create(code="N", defaults={})
                    user = User.objects.filter(username="a").first()
                    user.save()
                    user.depots.set([depot])
                    Depot.objects.filter(code="S").update(code="T")
                    Group.objects.get_or_create(name="not ours")
                    for d in Depot.objects.all():
                        d.delete()
            """,
            "sales/views.py": """
                from core import models as core_models

                def view(customer: "core_models.Customer", form):
                    core_models.Customer.objects.bulk_create([])
                    customer.save(update_fields=["depot"])
                    form.save()
            """,
        },
    )

    assert found(root) == {
        ("core/demo.py", 6, "Depot", "update_or_create"),
        ("core/demo.py", 8, "User", "save"),
        ("core/demo.py", 9, "User", "set"),
        ("core/demo.py", 10, "Depot", "update"),
        ("core/demo.py", 13, "Depot", "delete"),
        ("sales/views.py", 5, "Customer", "bulk_create"),
        ("sales/views.py", 6, "Customer", "save"),
        ("sales/views.py", 7, "a form's model", "save"),
    }
    text = str(next(f for f in scan(root, apps=("core",)) if f.line == 8))
    assert text == "core/demo.py:8: user.save() writes User outside a service"


def test_an_admin_that_saves_through_django_is_found(tmp_path):
    root = tree(
        tmp_path,
        {
            "core/admin.py": """
                from django.contrib import admin
                from core.models import Customer, Depot, RateTable
                from core.services import depot_save

                class ReadOnlyAdminMixin:
                    def has_add_permission(self, request, obj=None):
                        return False
                    def has_change_permission(self, request, obj=None):
                        return False
                    def has_delete_permission(self, request, obj=None):
                        return False

                @admin.register(Depot)
                class DepotAdmin(admin.ModelAdmin):
                    def has_delete_permission(self, request, obj=None):
                        return False

                @admin.register(Customer)
                class CustomerAdmin(admin.ModelAdmin):
                    def save_model(self, request, obj, form, change):
                        obj.save()
                    def delete_model(self, request, obj):
                        super().delete_model(request, obj)
                    def delete_queryset(self, request, queryset):
                        queryset.delete()

                @admin.register(RateTable)
                class RateTableAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
                    pass

                class ServedDepotAdmin(admin.ModelAdmin):
                    def save_model(self, request, obj, form, change):
                        depot_save(depot=obj, actor=request.user)
                    def has_delete_permission(self, request, obj=None):
                        return False

                admin.site.register(Depot, ServedDepotAdmin)
            """,
        },
    )

    assert found(root) == {
        ("core/admin.py", 15, "Depot", "save_model"),  # Django's save_model: obj.save()
        ("core/admin.py", 22, "Customer", "save"),
        ("core/admin.py", 24, "Customer", "delete_model"),
        ("core/admin.py", 26, "Customer", "delete"),
    }


def test_services_migrations_and_tests_may_write(tmp_path):
    write = """
        from core.models import Depot

        def depot_save(*, depot: Depot) -> Depot:
            depot.save()
            Depot.objects.create(code="N")
            return depot
    """
    root = tree(
        tmp_path,
        {
            "core/services/depots.py": write,
            "sales/services.py": write,
            "core/migrations/0002_depots.py": write,
            "core/tests/test_depots.py": write,
            "core/conftest.py": write,
            "core/reads.py": """
                from core.models import Depot

                def depot_codes(depot: Depot) -> list[str]:
                    depot.refresh_from_db()
                    return list(Depot.objects.values_list("code", flat=True))
            """,
        },
    )

    assert found(root) == set()
    assert exempt("core/services/depots.py")
    assert exempt("sales/services.py")
    assert not exempt("core/services_helpers.py")
    assert not exempt("core/admin_services.py")


def test_the_allowlist_allows_what_it_names_and_fails_when_stale(tmp_path):
    root = tree(tmp_path, {"core/api.py": "from core.models import Depot\nDepot(code='N').save()"})
    findings = scan(root, apps=("core",))
    entry = Allowed("core/api.py", "Depot", "save", "because")
    stale = Allowed("core/api.py", "Depot", "delete", "no longer done")

    assert judge(findings, (entry, stale)) == ([], [stale])
    assert judge(findings, ()) == (findings, [])


@pytest.mark.parametrize("entry", ALLOWED, ids=str)
def test_every_allowlist_entry_says_why(entry):
    assert len(entry.reason.split()) >= 5


def test_an_admin_keeping_reversions_revert_pages_is_found(tmp_path):
    root = tree(
        tmp_path,
        {
            "core/admin.py": """
                from django.contrib import admin
                from reversion.admin import VersionAdmin
                from core.models import Customer, Depot
                from core.services import master_delete

                class Recoverable:
                    def delete_model(self, request, obj):
                        master_delete(obj=obj, actor=request.user)
                    def delete_queryset(self, request, queryset):
                        for obj in queryset:
                            master_delete(obj=obj, actor=request.user)
                    def save_model(self, request, obj, form, change):
                        pass
                    def recover_view(self, request, version_id, extra_context=None):
                        return super().recover_view(request, version_id, extra_context)
                    def revision_view(self, request, object_id, version_id, extra_context=None):
                        raise NotImplementedError

                @admin.register(Depot)
                class DepotAdmin(Recoverable, VersionAdmin):
                    pass

                @admin.register(Customer)
                class CustomerAdmin(VersionAdmin):
                    def save_model(self, request, obj, form, change):
                        pass
                    def has_delete_permission(self, request, obj=None):
                        return False
            """,
        },
    )

    assert found(root) == {
        ("core/admin.py", 16, "its model", "recover_view"),  # super(): reversion's revert
        ("core/admin.py", 25, "Customer", "recover_view"),
        ("core/admin.py", 25, "Customer", "revision_view"),
    }
