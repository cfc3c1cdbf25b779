"""The role/permission matrix for every admin URL.

The expectations are a table; the URLs come from the admin registry, so a model registered
later without a row here fails `test_every_registered_model_has_expectations`.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from stock.models import Product

OK, FORBIDDEN, LOGIN = 200, 403, 302
VIEWS = ("changelist", "add", "change", "delete", "history")

# model label -> role -> status for (changelist, add, change, delete, history).
# Anonymous users and sales representatives are sent to the login page everywhere.
EXPECTED = {
    "core.user": {  # staff are deactivated, never deleted: history refers to them
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),  # change page is read-only
    },
    "core.depot": {  # the depot has staff: close it rather than delete it
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "core.auditlog": {  # read-only for everyone
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "core.outboxmessage": {  # documents' e-mails: head office reads and resends them
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (FORBIDDEN,) * 5,
    },
    "auth.group": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (FORBIDDEN,) * 5,
    },
    "stock.product": {
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    # Stock is posted through services only: levels and ledger are read-only.
    "stock.stocklevel": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "stock.stockmovement": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "stock.distribution": {
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),  # add is the collection/return form
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "stock.transfer": {  # add is the transfer form; the page is read-only
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "stock.stockcount": {  # add is the count sheet; the page is read-only
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "stock.reorderlevel": {  # head office sets minimums (0 switches one off, never deleted)
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    # Customers and rates belong to head office; managers read them for their depots.
    "sales.creditnote": {  # issued by a void only; read-only, managers for their depots
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.customer": {  # the customer has sales: close it rather than delete it
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.rate": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.taxrate": {  # versions: head office adds one (tax_rate_set), never changes one
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.depositrate": {  # versions: head office adds one (deposit_set), never changes one
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.ratetable": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.rateimport": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (FORBIDDEN,) * 5,
    },
    # Posted documents are read-only; "add" is the preview-and-confirm entry form.
    "sales.transaction": {
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "sales.payment": {
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "sales.cylinderreturn": {  # "add" is the record-a-return form; the page is read-only
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "sales.cashup": {  # "add" is the new-cash-up form; the page is read-only
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (OK, OK, OK, FORBIDDEN, OK),
    },
    "sales.syncrefusal": {  # kept by the sync; settled by repost or dismiss, never edited
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    # Cylinders held and their ledger are written by the services: read-only lists.
    "sales.cylinderholding": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "sales.holdingentry": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "billing.customerstatement": {  # issued by statement_issue; read-only, with its PDF
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),  # their depots' customers'
    },
    "billing.statementrun": {  # head office starts one ("add"); its page is read-only
        "ADMIN": (OK, OK, OK, FORBIDDEN, OK),
        "MANAGER": (FORBIDDEN,) * 5,
    },
    # Export jobs are made by report pages and schedules; each user sees their own.
    "reporting.exportjob": {
        "ADMIN": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
        "MANAGER": (OK, FORBIDDEN, OK, FORBIDDEN, OK),
    },
    "reporting.reportschedule": {
        "ADMIN": (OK, OK, OK, OK, OK),
        "MANAGER": (OK, OK, OK, OK, OK),  # their own schedules
    },
}
# Screens that are not a model's standard views: (url name, object) -> status per role.
EXTRA = {
    ("admin:stock_stocklevel_receive", None): {"ADMIN": OK, "MANAGER": OK},
    ("admin:stock_stocklevel_count", None): {"ADMIN": OK, "MANAGER": OK},
    ("admin:stock_stocklevel_dispatch", None): {"ADMIN": OK, "MANAGER": OK},
    ("admin:stock_stocklevel_write_off", None): {"ADMIN": OK, "MANAGER": OK},
    ("admin:stock_distribution_load_sheet", None): {"ADMIN": OK, "MANAGER": OK},
    ("admin:sales_customer_rates", "sales.customer"): {"ADMIN": OK, "MANAGER": FORBIDDEN},
    ("admin:sales_customer_holdings_adjust", "sales.customer"): {
        "ADMIN": OK,
        "MANAGER": FORBIDDEN,
    },
    ("admin:sales_transaction_void", "sales.transaction"): {"ADMIN": OK, "MANAGER": OK},
    ("admin:sales_cashup_confirm", "sales.cashup"): {"ADMIN": OK, "MANAGER": OK},
    ("admin:sales_syncrefusal_repost", "sales.syncrefusal"): {"ADMIN": OK, "MANAGER": OK},
    ("admin:sales_syncrefusal_dismiss", "sales.syncrefusal"): {"ADMIN": OK, "MANAGER": OK},
    ("admin:sales_rateimport_undo", "sales.rateimport"): {"ADMIN": OK, "MANAGER": FORBIDDEN},
    ("admin:sales_ratetable_import", None): {"ADMIN": OK, "MANAGER": FORBIDDEN},
    ("admin:sales_ratetable_export", None): {"ADMIN": OK, "MANAGER": OK},
    ("reports:index", None): {"ADMIN": OK, "MANAGER": OK},
    **{
        (f"reports:report:{slug}", None): {"ADMIN": OK, "MANAGER": OK}
        for slug in (
            "sales-register",
            "sales-summary",
            "meter-sales",
            "stock-position",
            "stock-ledger",
            "vehicle-reconciliation",
            "receivables",
            "audit-trail",
            "cash-ups",
        )
    },
}
# Login lockouts (django-axes) are unlocked by a superuser.
EXPECTED["axes.accessattempt"] = {"ADMIN": (FORBIDDEN,) * 5, "MANAGER": (FORBIDDEN,) * 5}
# Celery beat's own screens are for superusers (schedules are managed as report schedules).
for _model in (
    "periodictask",
    "intervalschedule",
    "crontabschedule",
    "solarschedule",
    "clockedschedule",
):
    EXPECTED[f"django_celery_beat.{_model}"] = {
        "ADMIN": (FORBIDDEN,) * 5,
        "MANAGER": (FORBIDDEN,) * 5,
    }


@pytest.fixture
def objects(north, user_factory):
    """One object of each registered model that a NORTH manager may see."""
    from django.utils import timezone
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from stock.services import distribution_create, stock_count_post, stock_receive, stock_transfer

    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    rep = user_factory("SALES", depots=[north])
    boss = user_factory("ADMIN")
    product = Product.objects.get(code="12.7KG")
    receipt = stock_receive(depot=north, product=product, quantity=5, actor=boss)
    from stock.services import reorder_level_set

    reorder_level = reorder_level_set(depot=north, product=product, minimum_full=10, actor=boss)
    distribution = distribution_create(
        sales_rep=rep, depot=north, product=product, quantity=2, kind="COLLECTION", actor=boss
    )
    from sales.models import Customer, RateImport, RateTable
    from sales.services import (
        cashup_post,
        deposit_set,
        payment_record,
        rate_set,
        sale_post,
        sale_void,
        tax_rate_set,
    )

    customer = Customer.objects.create(
        code="C001", name="Perera Stores", depot=north, payment_type="CREDIT"
    )
    rate_set(customer=customer, product=product, rate="3000", actor=boss)
    sale = sale_post(
        customer=customer, sales_rep=rep, actor=boss, lines=[{"product": product, "quantity": 1}]
    )
    from datetime import date

    from billing.models import StatementRun
    from billing.services import statement_issue
    from core.models import AuditLog, Depot
    from core.services import outbox_enqueue
    from reporting.models import ExportJob, ReportSchedule

    manager = rep.depots.first().staff.filter(role="MANAGER").first()
    from sales.models import HoldingEntry, SyncRefusal
    from sales.services import cylinder_return, cylinders_held_adjust

    # two cylinders found at the customer's site, one of them brought back
    cylinders_held_adjust(
        customer=customer, product=product, counted=2, reason="opening count", actor=boss
    )
    returned = cylinder_return(
        customer=customer, sales_rep=rep, lines=[{"product": product, "quantity": 1}], actor=boss
    )
    from axes.models import AccessAttempt

    return {
        "axes.accessattempt": AccessAttempt.objects.create(
            username="someone",
            ip_address="10.0.0.1",
            user_agent="",
            http_accept="",
            path_info="/admin/login/",
            failures_since_start=1,
        ),
        "reporting.exportjob": ExportJob.objects.create(
            requested_by=manager, report="sales-register", format="csv"
        ),
        "reporting.reportschedule": ReportSchedule.objects.create(
            name="Daily sales", owner=manager, report="sales-register", recipients="a@b.lk"
        ),
        "core.auditlog": AuditLog.objects.filter(depot=north).first(),
        "core.outboxmessage": outbox_enqueue(
            kind="INVOICE", document=sale, number=sale.number, to="perera@example.lk"
        ),
        "sales.customer": customer,
        "sales.cylinderreturn": returned,
        "sales.cashup": cashup_post(sales_rep=rep, counted_cash="0", actor=boss),
        "sales.syncrefusal": SyncRefusal.objects.create(
            sales_rep=rep,
            depot=north,
            client_id="c-1",
            doc_type="sale",
            document={"client_id": "c-1", "type": "sale", "customer": "C001", "lines": []},
            error_code="empty_sale",
            error_message="Add a line or a meter reading.",
        ),
        "sales.cylinderholding": customer.holdings.get(),
        "sales.holdingentry": HoldingEntry.objects.filter(customer=customer).first(),
        "billing.customerstatement": statement_issue(
            customer=customer,
            date_from=timezone.localdate(),
            date_to=timezone.localdate(),
            actor=boss,
            email=False,
        ),
        "billing.statementrun": StatementRun.objects.create(month=date(2020, 1, 1)),
        "sales.rate": customer.rates.get(),
        "sales.ratetable": RateTable.objects.get(pk=customer.pk),
        "sales.taxrate": tax_rate_set(rate="10", actor=boss),
        "sales.depositrate": deposit_set(product=product, amount="500", actor=boss),
        "sales.rateimport": RateImport.objects.create(file_name="rates.csv", created_by=boss),
        "sales.transaction": sale,
        "sales.creditnote": sale_void(
            transaction=sale_post(
                customer=customer,
                sales_rep=rep,
                actor=boss,
                lines=[{"product": product, "quantity": 1}],
            ),
            actor=boss,
            reason="wrong customer",
        ).credit_note,
        "sales.payment": payment_record(customer=customer, amount="10", actor=boss),
        "stock.stocklevel": receipt.to_level,
        "stock.stockmovement": receipt,
        "stock.distribution": distribution,
        "stock.transfer": stock_transfer(
            from_depot=north,
            to_depot=Depot.objects.create(code="EAST", name="East depot"),
            lines=[{"product": product, "quantity": 1}],
            actor=boss,
        ),
        "stock.stockcount": stock_count_post(
            depot=north,
            lines=[{"product": product, "state": "EMPTY", "counted": 0}],
            reason="routine",
            actor=boss,
        ),
        "core.user": rep,
        "core.depot": north,
        "auth.group": Group.objects.get(name="Sales"),
        "stock.product": Product.objects.get(code="12.7KG"),
        "stock.reorderlevel": reorder_level,
        "django_celery_beat.periodictask": PeriodicTask.objects.create(
            name="nightly", task="noop", interval=interval
        ),
        "django_celery_beat.intervalschedule": interval,
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.create(),
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=6.9, longitude=79.8
        ),
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(
            clocked_time=timezone.now()
        ),
    }


def admin_url(label, view, obj):
    app_label, model = label.split(".")
    name = f"admin:{app_label}_{model}_{view}"
    if view in ("changelist", "add"):
        return reverse(name)
    return reverse(name, args=[obj.pk])


CASES = [(label, view) for label in EXPECTED for view in VIEWS]


def test_every_registered_model_has_expectations():
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert registered == set(EXPECTED)


@pytest.fixture
def login_as(client, head_office, manager, sales_rep):
    users = {"ADMIN": head_office, "MANAGER": manager, "SALES": sales_rep}

    def login(role):
        if role is not None:
            client.force_login(users[role])
        return client

    return login


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, "SALES"], ids=["anonymous", "sales"])
@pytest.mark.parametrize(("label", "view"), CASES)
def test_anonymous_and_sales_are_sent_to_login(login_as, objects, role, label, view):
    client = login_as(role)
    response = client.get(admin_url(label, view, objects[label]))
    assert response.status_code == LOGIN
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ADMIN", "MANAGER"])
@pytest.mark.parametrize(("label", "view"), CASES)
def test_staff_roles(login_as, objects, role, label, view):
    client = login_as(role)
    expected = EXPECTED[label][role][VIEWS.index(view)]
    response = client.get(admin_url(label, view, objects[label]))
    assert response.status_code == expected, response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, "SALES", "MANAGER", "ADMIN"])
@pytest.mark.parametrize(("url_name", "label"), EXTRA)
def test_extra_screens(login_as, objects, role, url_name, label):
    expected = EXTRA[(url_name, label)].get(role, LOGIN)
    args = [objects[label].pk] if label else []
    if url_name.startswith("reports:report:"):
        url_name, args = "reports:report", [url_name.rsplit(":", 1)[1]]
    response = login_as(role).get(reverse(url_name, args=args))
    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"), [(None, LOGIN), ("SALES", LOGIN), ("MANAGER", OK), ("ADMIN", OK)]
)
def test_dashboard(login_as, role, expected):
    response = login_as(role).get(reverse("admin:index"))
    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"), [(None, LOGIN), ("SALES", LOGIN), ("MANAGER", FORBIDDEN), ("ADMIN", OK)]
)
def test_password_change_of_a_user(login_as, objects, role, expected):
    url = reverse("admin:auth_user_password_change", args=[objects["core.user"].pk])
    response = login_as(role).get(url)
    assert response.status_code == expected


@pytest.mark.django_db
def test_only_admin_creates_users_and_manager_cannot_post(login_as, north):
    client = login_as("MANAGER")
    before = client.get(reverse("admin:core_user_changelist")).status_code
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "sneaky",
            "password1": "x-Long-pass-42",
            "password2": "x-Long-pass-42",
            "role": "ADMIN",
            "usable_password": "true",
        },
    )
    assert before == OK
    assert response.status_code == FORBIDDEN
    from core.models import User

    assert not User.objects.filter(username="sneaky").exists()


@pytest.mark.django_db
def test_admin_cannot_edit_a_superuser(login_as, django_user_model):
    boss = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")
    response = login_as("ADMIN").get(reverse("admin:core_user_change", args=[boss.pk]))
    assert response.status_code == OK
    assert b'name="username"' not in response.content  # view-only page, no inputs


@pytest.mark.django_db
def test_sales_rep_login_form_explains_where_to_go(client, sales_rep):
    response = client.post(
        reverse("admin:login"),
        {"username": sales_rep.username, "password": "correct-horse-battery"},
    )
    assert response.status_code == OK
    assert b"handheld app" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_manager_logs_in_through_the_form(client, manager):
    response = client.post(
        reverse("admin:login"),
        {"username": manager.username, "password": "correct-horse-battery"},
    )
    assert response.status_code == LOGIN
    assert client.session["_auth_user_id"] == str(manager.pk)


@pytest.mark.django_db
def test_admin_deletes_a_depot_without_staff(login_as, depot_factory):
    from core.models import Depot

    empty = depot_factory("WEST")
    client = login_as("ADMIN")
    url = reverse("admin:core_depot_delete", args=[empty.pk])
    assert client.get(url).status_code == OK
    client.post(url, {"post": "yes"})
    assert not Depot.objects.filter(code="WEST").exists()
