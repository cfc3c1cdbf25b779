"""Query counts pinned, as Zulip does: every admin changelist and every field-API list costs
the same queries for a few rows as for many, and no more than recorded here. An N+1 (a
query per row shown) fails these tests.

The changelists are walked from the admin registry and the API lists from its router: a
screen or endpoint added later fails test_every_list_is_pinned_here until Rows makes rows
for it and its count is recorded below.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from hsh_admin.api_urls import router

pytestmark = pytest.mark.django_db

FEW, MANY = 2, 7

# The most queries a changelist may take for its page: (as a superuser, as the NORTH
# manager), None where the manager may not open it. A superuser's are the session, the
# user, the count (twice where the full count is shown), the page, and the choices of the
# filters that read the database; a manager's add their permissions (2) and their depots
# (read twice: for the rows and for the filter's choices).
CHANGELIST_QUERIES: dict[str, tuple[int, int | None]] = {
    "auth.Group": (5, None),
    "axes.AccessAttempt": (8, None),
    "billing.CustomerStatement": (5, 9),
    "billing.StatementRun": (4, None),
    "core.AuditLog": (6, 11),
    "core.Depot": (7, 10),
    "core.OutboxMessage": (5, None),
    "core.User": (7, 11),
    "django_celery_beat.ClockedSchedule": (5, None),
    "django_celery_beat.CrontabSchedule": (5, None),
    "django_celery_beat.IntervalSchedule": (5, None),
    "django_celery_beat.PeriodicTask": (8, None),
    "django_celery_beat.SolarSchedule": (5, None),
    "reporting.ExportJob": (6, 10),
    "reporting.ReportSchedule": (6, 10),
    "sales.CashUp": (5, 9),
    "sales.CreditNote": (5, 9),
    "sales.CylinderHolding": (6, 10),
    "sales.CylinderReturn": (5, 9),
    "sales.DepositRate": (5, 7),
    "sales.HoldingEntry": (5, 8),
    "sales.Customer": (7, 11),
    "sales.Payment": (5, 9),
    "sales.Rate": (6, 10),
    "sales.RateImport": (5, None),
    "sales.RateTable": (6, 10),
    "sales.SyncRefusal": (5, 9),
    "sales.TaxRate": (5, 7),
    "sales.Transaction": (5, 9),
    "stock.Distribution": (7, 11),  # + the lines with their products
    "stock.Product": (5, 7),
    "stock.ReorderLevel": (6, 10),
    "stock.StockCount": (7, 12),  # + the lines with their products
    "stock.StockLevel": (8, 13),
    "stock.StockMovement": (7, 13),  # + a manager's depot levels (transfers into them)
    "stock.Transfer": (7, 12),  # + the lines with their products
}

# The most queries an API list may take for its page: (for the NORTH representative, the
# NORTH manager, head office). The test client signs in without a query; each is the
# count and the page, and what the list adds: the active products (customers' rates),
# the customers' cylinders held (prefetched), the sales' and returns' lines and their
# products (prefetched). A manager's depots are read once for
# the rows, and again where a serializer offers customers (payments, sales).
API_QUERIES: dict[str, tuple[int, int, int]] = {
    "/api/cashups/": (2, 3, 2),
    "/api/customers/": (4, 5, 4),
    "/api/distributions/": (3, 4, 3),  # + the lines with their products
    "/api/payments/": (2, 4, 2),
    "/api/products/": (2, 2, 2),  # the count and the page: products are not scoped
    "/api/returns/": (4, 7, 4),  # + the lines and their products; a manager's depots
    "/api/sales/": (4, 6, 4),
    "/api/me/stock/": (1, 2, 1),  # not paged: one query
}
# Which rows each list shows (a Rows maker).
API_ROWS = {
    "/api/cashups/": "sales.CashUp",
    "/api/customers/": "sales.Customer",
    "/api/distributions/": "stock.Distribution",
    "/api/payments/": "api.payments",
    "/api/products/": "api.products",
    "/api/returns/": "sales.CylinderReturn",
    "/api/sales/": "sales.Transaction",
    "/api/me/stock/": "api.me_stock",
}


class Rows:
    """make(name): one more row that the list `name` (a model label) shows, in NORTH,
    where the manager and the representative work, made as the business makes it."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.fixture = request.getfixturevalue
        self.n = count(1)
        self.north = self.fixture("north")
        self.head_office = self.fixture("head_office")
        self.manager = self.fixture("manager")
        self.rep = self.fixture("loaded_vehicle")  # sales_rep, with stock on the vehicle
        self.products = self.fixture("products")
        self.customers = self.fixture("customer_factory")
        self.users = self.fixture("user_factory")

    @staticmethod
    def _method(name: str) -> str:
        return "_" + name.replace(".", "_").lower()

    def make(self, name: str) -> None:
        getattr(self, self._method(name))(next(self.n))

    def __contains__(self, name: str) -> bool:
        return hasattr(self, self._method(name))

    # --- core, auth, axes ---------------------------------------------------------------
    def _auth_group(self, n: int) -> None:
        self.users("MANAGER", depots=[self.north]).groups.add(
            Group.objects.create(name=f"Group {n}")
        )

    def _axes_accessattempt(self, n: int) -> None:
        from axes.models import AccessAttempt

        AccessAttempt.objects.create(
            username=f"someone{n}",
            ip_address=f"10.0.0.{n}",
            user_agent="test",
            path_info="/admin/login/",
            failures_since_start=n,
        )

    def _core_auditlog(self, n: int) -> None:
        from core.services import audit_record

        audit_record(
            actor=self.manager, action="test_entry", obj=self.north, depot=self.north, data={"n": n}
        )

    def _core_depot(self, n: int) -> None:
        depot = self.fixture("depot_factory")(f"D{n}")
        self.manager.depots.add(depot)  # so that the manager's list grows too
        self.users("SALES", depots=[depot])

    def _core_outboxmessage(self, n: int) -> None:
        from django.db import transaction

        from core.services import outbox_enqueue

        with transaction.atomic():
            outbox_enqueue(
                kind=("INVOICE", "RECEIPT")[n % 2],
                document=self.north,
                number=f"TX-2026-{n:06d}",
                to=f"customer{n}@example.lk",
            )

    def _core_user(self, n: int) -> None:
        self.users("SALES", depots=[self.north])

    # --- billing ------------------------------------------------------------------------
    def _billing_customerstatement(self, n: int) -> None:
        from billing.services import statement_issue

        customer = self.customers("CREDIT", email=f"customer{n}@example.lk")
        today = timezone.localdate()
        statement_issue(customer=customer, date_from=today, date_to=today, actor=self.head_office)

    def _billing_statementrun(self, n: int) -> None:
        from datetime import date

        from billing.models import StatementRun

        StatementRun.objects.create(
            month=date(2000 + n // 12, n % 12 + 1, 1), requested_by=self.head_office
        )

    # --- celery beat --------------------------------------------------------------------
    def _django_celery_beat_clockedschedule(self, n: int) -> None:
        from django_celery_beat.models import ClockedSchedule

        ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=n))

    def _django_celery_beat_crontabschedule(self, n: int) -> None:
        from django_celery_beat.models import CrontabSchedule

        CrontabSchedule.objects.create(minute=str(n), hour="6")

    def _django_celery_beat_intervalschedule(self, n: int) -> None:
        from django_celery_beat.models import IntervalSchedule

        IntervalSchedule.objects.create(every=n, period=IntervalSchedule.MINUTES)

    def _django_celery_beat_solarschedule(self, n: int) -> None:
        from django_celery_beat.models import SolarSchedule

        SolarSchedule.objects.create(event="sunrise", latitude=n, longitude=n)

    def _django_celery_beat_periodictask(self, n: int) -> None:
        self._reporting_reportschedule(n)  # a schedule is run by its beat entry

    # --- reporting ----------------------------------------------------------------------
    def _reporting_exportjob(self, n: int) -> None:
        from reporting.models import ExportJob

        ExportJob.objects.create(
            requested_by=self.manager, report="sales-register", format="csv", row_count=n
        )

    def _reporting_reportschedule(self, n: int) -> None:
        from reporting.models import ReportSchedule
        from reporting.services import export_job_request, schedule_save

        schedule = schedule_save(
            schedule=ReportSchedule(
                name=f"Schedule {n}",
                owner=self.manager,
                report="sales-register",
                recipients="boss@example.com",
            )
        )
        for _ in range(n % 3):  # its last run is shown
            export_job_request(
                actor=self.manager,
                report="sales-register",
                filters={},
                format="csv",
                schedule=schedule,
            )

    # --- sales --------------------------------------------------------------------------
    def _sales_customer(self, n: int) -> None:
        from sales.services import payment_record, sale_post

        customer = self.customers("CREDIT", credit_limit=Decimal("50000.00"))
        sale_post(
            customer=customer,
            sales_rep=self.rep,
            actor=self.rep,
            lines=[{"product": self.products["12.7KG"], "quantity": 1}],
        )
        payment_record(customer=customer, amount="100.00", actor=self.manager)

    def _sales_ratetable(self, n: int) -> None:
        self.customers("CASH")

    def _sales_rate(self, n: int) -> None:
        from sales.services import rate_set

        customer = self.customers("CASH", rates={"9KG": "2000.00"})
        rate_set(
            customer=customer, product=self.products["9KG"], rate=f"{2000 + n}", actor=self.manager
        )

    def _sales_rateimport(self, n: int) -> None:
        from sales.models import RateImport
        from sales.services import RateChange, rate_import_undo, rates_set

        customer = self.customers("CASH")
        batch = RateImport.objects.create(file_name=f"rates{n}.csv", created_by=self.head_office)
        rates_set(
            changes=[RateChange(customer, self.products["9KG"], Decimal(2300 + n), None)],
            actor=self.head_office,
            batch=batch,
        )
        if n % 2:
            rate_import_undo(batch=batch, actor=self.head_office)  # and its undo, a row too

    def _sales_taxrate(self, n: int) -> None:
        from sales.services import tax_rate_set

        tax_rate_set(rate=f"{n}.50", actor=self.head_office)

    def _sales_depositrate(self, n: int) -> None:
        from sales.services import deposit_set

        product = self.products["9KG" if n % 2 else "12.7KG"]
        deposit_set(product=product, amount=f"{n}00.00", actor=self.head_office)

    def _sales_transaction(self, n: int) -> None:
        from sales.services import sale_post, sale_void

        sale = sale_post(
            customer=self.customers("CASH"),
            sales_rep=self.rep,
            actor=self.rep,
            lines=[{"product": self.products["12.7KG"], "quantity": 1, "empties_returned": 0}],
            meter_reading=f"{n}0" if n % 3 == 0 else None,
        )
        if n % 2:
            sale_void(transaction=sale, actor=self.manager, reason="wrong customer")

    def _sales_creditnote(self, n: int) -> None:
        from sales.services import sale_post, sale_void

        sale = sale_post(
            customer=self.customers("CASH"),
            sales_rep=self.rep,
            actor=self.rep,
            lines=[{"product": self.products["12.7KG"], "quantity": 1, "empties_returned": 0}],
        )
        sale_void(transaction=sale, actor=self.manager, reason=f"entered twice ({n})")

    def _sales_payment(self, n: int, actor=None) -> None:
        from sales.services import payment_record, payment_reverse

        customer = self.customers("CREDIT", credit_limit=Decimal("50000.00"))
        payment = payment_record(customer=customer, amount=f"{n}00.00", actor=actor or self.manager)
        if n % 2:
            payment_reverse(payment=payment, actor=self.manager, reason="cheque bounced")

    def _sales_cylinderreturn(self, n: int) -> None:
        """A customer who took cylinders (2 of 12.7KG, 1 of 9KG) and gave some back to the
        representative: a return with one or two lines."""
        from sales.services import cylinder_return, sale_post

        customer = self.customers("CASH")
        sale_post(
            customer=customer,
            sales_rep=self.rep,
            actor=self.rep,
            lines=[
                {"product": self.products["12.7KG"], "quantity": 2, "empties_returned": 0},
                {"product": self.products["9KG"], "quantity": 1, "empties_returned": 0},
            ],
        )
        lines = [{"product": self.products["12.7KG"], "quantity": 1}]
        if n % 2:
            lines.append({"product": self.products["9KG"], "quantity": 1})
        cylinder_return(customer=customer, sales_rep=self.rep, lines=lines, actor=self.rep)

    def _sales_cashup(self, n: int) -> None:
        """A cash sale, then the representative's cash-up, a little short every other day."""
        from sales.services import cashup_post, sale_post

        sale = sale_post(
            customer=self.customers("CASH"),
            sales_rep=self.rep,
            actor=self.rep,
            lines=[{"product": self.products["9KG"], "quantity": 1, "empties_returned": 1}],
        )
        counted = sale.total_amount - (n % 2)
        cashup_post(sales_rep=self.rep, counted_cash=counted, actor=self.rep)

    def _sales_syncrefusal(self, n: int) -> None:
        """A sale the representative's sync could not post, kept for the manager."""
        from sales.services.sync import sync_refusal_record

        sync_refusal_record(
            sales_rep=self.rep,
            client_id=f"refused-{n}",
            doc_type="sale",
            document={"customer": "C001", "lines": [{"product": "12.7KG", "quantity": 99}]},
            error={
                "code": "insufficient_stock",
                "message": "Only 20 full 12.7KG cylinders on the vehicle; 99 requested.",
                "fields": {"lines[0].quantity": ["Only 20 full 12.7KG cylinders; 99 requested."]},
            },
            occurred_at=None,
            depot=self.north,
        )

    _sales_cylinderholding = _sales_cylinderreturn  # a holding or two per customer
    _sales_holdingentry = _sales_cylinderreturn  # and their entries

    def _api_payments(self, n: int) -> None:
        self._sales_payment(n, actor=self.rep)  # the representative sees those they took

    # --- stock --------------------------------------------------------------------------
    def _stock_distribution(self, n: int) -> None:
        from stock.services import distribution_create

        distribution_create(
            sales_rep=self.rep,
            depot=self.north,
            product=self.products["12.7KG"],
            quantity=1,
            kind="COLLECTION",
            actor=self.manager,
        )

    def _stock_transfer(self, n: int) -> None:
        from stock.services import stock_receive, stock_transfer

        cyl, nine = self.products["12.7KG"], self.products["9KG"]
        stock_receive(depot=self.north, product=cyl, quantity=2, actor=self.manager)
        lines = [{"product": cyl, "quantity": 2}]
        if n % 2:  # some with two products
            lines = [{"product": cyl, "quantity": 1}, {"product": nine, "quantity": 1}]
        stock_transfer(
            from_depot=self.north,
            to_depot=self.fixture("south"),
            lines=lines,
            reference=f"WB-{n}",
            actor=self.manager,
        )

    def _stock_stockcount(self, n: int) -> None:
        from stock.services import stock_count_post

        place = {"sales_rep": self.rep} if n % 2 else {"depot": self.north}
        stock_count_post(
            lines=[
                {"product": self.products["12.7KG"], "state": "EMPTY", "counted": n},
                {"product": self.products["9KG"], "state": "EMPTY", "counted": n},
            ],
            reason=f"count {n}",
            actor=self.manager,
            **place,
        )

    def _stock_product(self, n: int) -> None:
        from stock.models import Product

        Product.objects.create(
            code=f"P{n}", name=f"Product {n}", kind="CYLINDER", capacity_kg=n, sort_order=n
        )

    def _stock_reorderlevel(self, n: int) -> None:
        from stock.models import Product
        from stock.services import reorder_level_set

        product = Product.objects.create(
            code=f"R{n}", name=f"Product {n}", kind="CYLINDER", capacity_kg=n, sort_order=n
        )
        reorder_level_set(depot=self.north, product=product, minimum_full=n, actor=self.head_office)

    def _stock_stocklevel(self, n: int) -> None:
        self._collected(self.users("SALES", depots=[self.north]), self.products["14KG"], n)

    def _stock_stockmovement(self, n: int) -> None:
        from stock.services import stock_adjust

        self._collected(self.rep, self.products["9KG"], n)
        stock_adjust(
            product=self.products["12.7KG"],
            state="FULL",
            counted=20 - n,
            reason="count",
            actor=self.manager,
            sales_rep=self.rep,
        )

    def _api_products(self, n: int) -> None:
        from stock.services import product_create

        product_create(
            code=f"SVC{n}",
            name=f"Service {n}",
            kind="SERVICE",
            actor=self.head_office,
            list_price=f"{n}00.00",
        )

    def _api_me_stock(self, n: int) -> None:
        from stock.models import Product

        product = Product.objects.create(
            code=f"P{n}", name=f"Product {n}", kind="CYLINDER", capacity_kg=n, sort_order=n
        )
        self._collected(self.rep, product, n)  # a level at the depot and one on the vehicle

    def _collected(self, rep, product, n: int) -> None:
        from stock.services import distribution_create, stock_receive

        stock_receive(depot=self.north, product=product, quantity=n + 1, actor=self.manager)
        distribution_create(
            sales_rep=rep,
            depot=self.north,
            product=product,
            quantity=n,
            kind="COLLECTION",
            actor=self.manager,
        )


@pytest.fixture
def rows(request) -> Rows:
    return Rows(request)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")


def registered() -> list[str]:
    return sorted(model._meta.label for model in admin.site._registry)


def api_lists() -> list[str]:
    """The router's list routes, and the one list outside it."""
    listed = [
        f"/api/{prefix}/" for prefix, viewset, _ in router.registry if hasattr(viewset, "list")
    ]
    return sorted([*listed, reverse("api:my-stock")])


def changelist_queries(client, label: str) -> tuple[int, int, list[str]]:
    app_label, model_name = label.lower().split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    client.get(url)  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (label, response.status_code)
    return len(queries), len(response.context["cl"].result_list), [q["sql"] for q in queries]


def may_open(user, label: str) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[apps.get_model(label)].has_view_or_change_permission(request)


def test_every_list_is_pinned_here(rows, manager):
    assert sorted(CHANGELIST_QUERIES) == registered()
    assert [label for label in registered() if label not in rows] == []
    assert {label: may_open(manager, label) for label in registered()} == {
        label: pinned[1] is not None for label, pinned in CHANGELIST_QUERIES.items()
    }
    assert sorted(API_QUERIES) == sorted(API_ROWS) == api_lists()
    assert [name for name in API_ROWS.values() if name not in rows] == []


@pytest.mark.parametrize(
    ("label", "who", "limit"),
    [
        (label, who, limit)
        for label, limits in sorted(CHANGELIST_QUERIES.items())
        for who, limit in zip(("superuser", "manager"), limits, strict=True)
        if limit is not None  # None: the manager may not open it
    ],
)
def test_a_changelist_costs_the_same_for_few_rows_and_many(
    request, client, rows, label, who, limit
):
    for _ in range(FEW):
        rows.make(label)
    client.force_login(request.getfixturevalue(who))
    few, shown_few, _ = changelist_queries(client, label)
    for _ in range(MANY - FEW):
        rows.make(label)
    many, shown_many, sql = changelist_queries(client, label)
    assert shown_many > shown_few  # the rows really are on the page
    assert many == few, "\n".join(sql)
    assert many <= limit, "\n".join(sql)


def api_queries(user, path: str) -> tuple[int, int, list[str]]:
    client = APIClient()
    client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"limit": 200})
    assert response.status_code == 200, (path, response.status_code)
    data = response.data
    shown = len(data["results"] if isinstance(data, dict) else data)
    return len(queries), shown, [q["sql"] for q in queries]


@pytest.mark.parametrize("who", ["sales_rep", "manager", "head_office"])
@pytest.mark.parametrize("path", sorted(API_QUERIES))
def test_an_api_list_costs_the_same_for_few_rows_and_many(request, rows, path, who):
    user = request.getfixturevalue(who)
    for _ in range(FEW):
        rows.make(API_ROWS[path])
    few, shown_few, _ = api_queries(user, path)
    for _ in range(MANY - FEW):
        rows.make(API_ROWS[path])
    many, shown_many, sql = api_queries(user, path)
    assert shown_many > shown_few
    assert many == few, "\n".join(sql)
    limit = API_QUERIES[path][("sales_rep", "manager", "head_office").index(who)]
    assert many <= limit, "\n".join(sql)


def test_each_schedule_shows_its_last_run(client, rows, superuser):
    """What the schedules' list shows is what it showed before its last run came with the
    page: the newest job's time and status."""
    from reporting.models import ReportSchedule

    for _ in range(3):
        rows.make("reporting.ReportSchedule")
    client.force_login(superuser)
    page = client.get(reverse("admin:reporting_reportschedule_changelist"))
    shown = {
        obj.pk: page.context["cl"].model_admin.last_run(obj)
        for obj in page.context["cl"].result_list
    }
    from core.display import moment

    expected = {}
    for schedule in ReportSchedule.objects.all():
        job = schedule.jobs.order_by("-id").first()
        expected[schedule.pk] = (
            f"{moment(job.created_at)} ({job.get_status_display()})" if job else "Not yet"
        )
    assert shown == expected
    assert list(shown.values()).count("Not yet") == 1  # one schedule never ran
