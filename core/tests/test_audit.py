"""Invariant 9: the audit log, the ledger and every history table cannot be rewritten, and
verify_audit finds a row that was."""

from decimal import Decimal

import pytest
from celery import shared_task
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from core.append_only import AppendOnlyError
from core.models import AuditLog, Depot, User
from core.services import audit_record
from sales.models import Customer, Rate
from sales.services import payment_record, rate_set, sale_post, sale_void
from stock.models import Product, StockMovement
from stock.services import distribution_create, stock_adjust, stock_receive

PROTECTED = [
    "core_auditlog",
    "core_historicaluser",
    "core_historicaldepot",
    "stock_stockmovement",
    "stock_historicalproduct",
    "stock_historicalstocklevel",
    "stock_historicaldistribution",
    "sales_rate",
    "sales_transactionline",
    "sales_metersale",
    "sales_paymentallocation",
    "sales_historicalcustomer",
    "sales_historicalrate",
    "sales_historicaltransaction",
    "sales_historicalpayment",
]


@pytest.fixture
def a_day_of_business(north, head_office, sales_rep, manager):
    """At least one row in every protected table, all written through the services."""
    cyl = Product.objects.get(code="12.7KG")
    bulk = Product.objects.get(code="BULK")
    cyl.name = "12.7 kg cylinder (LP)"
    cyl.save()
    north.name = "Northern depot (main)"
    north.save()
    customer = Customer.objects.create(
        code="C001", name="Lanka Hotels", depot=north, payment_type="CREDIT"
    )
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office)
    rate_set(customer=customer, product=bulk, rate="250", actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=10, actor=manager)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=5,
        kind="COLLECTION",
        actor=sales_rep,
    )
    sale = sale_post(
        customer=customer,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 2}],
        meter_reading="100",
    )
    payment_record(customer=customer, amount="1000", actor=manager)
    return {"customer": customer, "sale": sale, "cyl": cyl}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", PROTECTED)
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}", "TRUNCATE {t} CASCADE"]
)
def test_the_database_refuses_to_rewrite(a_day_of_business, table, statement):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        assert cursor.fetchone()[0] > 0, f"no row in {table} to protect"
    operation = statement.split()[0]
    with connection.cursor() as c:
        # The test's own inserts leave deferred FK checks pending, which PostgreSQL would
        # refuse TRUNCATE for before our trigger runs: settle them first.
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as c:
        c.execute(statement.format(t=table))
    assert f"table {table} is append-only: {operation} is not allowed" in str(exc.value)


@pytest.mark.django_db
def test_the_orm_refuses_too(a_day_of_business):
    entry = AuditLog.objects.first()
    entry.action = "forged"
    attempts = [
        entry.save,
        entry.delete,
        lambda: AuditLog.objects.update(action="x"),
        lambda: AuditLog.objects.all().delete(),
        lambda: StockMovement.objects.update(quantity=0),
        lambda: Rate.objects.filter(pk__gt=0).delete(),
        lambda: a_day_of_business["sale"].lines.update(rate=Decimal("1")),
        lambda: a_day_of_business["customer"].history.update(name="x"),
        lambda: a_day_of_business["customer"].history.all().delete(),
        lambda: Customer.history.model.objects.update(name="x"),
    ]
    for attempt in attempts:
        with pytest.raises(AppendOnlyError, match="is append-only"):
            attempt()
    assert not AuditLog.objects.filter(action="forged").exists()


def _tamper(sql):
    """What a superuser with the triggers switched off could do."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.django_db
def test_verify_audit_passes_on_a_clean_chain(a_day_of_business, capsys):
    call_command("verify_audit")
    assert f"Audit chain intact: {AuditLog.objects.count()} entries verified." in (
        capsys.readouterr().out
    )


@pytest.mark.django_db
def test_verify_audit_names_a_changed_row(a_day_of_business, capsys):
    victim = AuditLog.objects.get(seq=3)
    _tamper(f"UPDATE core_auditlog SET data = '{{\"quantity\": 1}}' WHERE id = {victim.pk}")  # noqa: S608
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"entry #3 (id {victim.pk}, {victim.action}" in err
    assert "was changed after it was written" in err


@pytest.mark.django_db
def test_verify_audit_names_a_removed_row(a_day_of_business, capsys):
    _tamper("DELETE FROM core_auditlog WHERE seq = 2")
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert "entry #2 is missing" in capsys.readouterr().err


@pytest.mark.django_db
def test_verify_audit_notices_the_newest_rows_removed(a_day_of_business, capsys):
    last = AuditLog.objects.order_by("-seq").first().seq
    _tamper(f"DELETE FROM core_auditlog WHERE seq = {last}")  # noqa: S608
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert f"entries #{last} to #{last} are missing" in capsys.readouterr().err


@pytest.mark.django_db
def test_each_service_writes_exactly_its_entries(north, head_office, sales_rep, manager):
    cyl = Product.objects.get(code="12.7KG")
    customer = Customer.objects.create(code="C9", name="X", depot=north, payment_type="CREDIT")

    def actions_of(call):
        before = AuditLog.objects.count()
        result = call()
        entries = list(AuditLog.objects.order_by("seq")[before:])
        return result, [(e.action, e.actor.username, e.object_type) for e in entries]

    steps = [
        (
            lambda: rate_set(customer=customer, product=cyl, rate="10", actor=head_office),
            [("rate_set", "headoffice", "sales.rate")],
        ),
        (
            lambda: stock_receive(depot=north, product=cyl, quantity=9, actor=manager),
            [("stock_receive", "northmanager", "stock.stockmovement")],
        ),
        (
            lambda: distribution_create(
                sales_rep=sales_rep,
                depot=north,
                product=cyl,
                quantity=4,
                kind="COLLECTION",
                actor=sales_rep,
            ),
            [("distribution_create", "northrep", "stock.distribution")],
        ),
        (
            lambda: stock_adjust(
                product=cyl, state="FULL", counted=4, reason="count", actor=manager, depot=north
            ),
            [("stock_adjust", "northmanager", "stock.stockmovement")],
        ),
        (
            lambda: sale_post(
                customer=customer,
                sales_rep=sales_rep,
                actor=sales_rep,
                lines=[{"product": cyl, "quantity": 1}],
            ),
            [("sale_post", "northrep", "sales.transaction")],
        ),
        (
            lambda: payment_record(customer=customer, amount="5", actor=manager),
            [("payment_record", "northmanager", "sales.payment")],
        ),
    ]
    for call, expected in steps:
        _, entries = actions_of(call)
        assert entries == expected
    from sales.models import Transaction

    sale = Transaction.objects.get()
    _, entries = actions_of(lambda: sale_void(transaction=sale, actor=manager, reason="x"))
    assert entries == [("sale_void", "northmanager", "sales.transaction")]


@shared_task
def receive_in_a_worker(depot_id, product_id, actor_id):
    """What a Celery task looks like here: fetch by id, call the service."""
    stock_receive(
        depot=Depot.objects.get(pk=depot_id),
        product=Product.objects.get(pk=product_id),
        quantity=3,
        actor=User.objects.get(pk=actor_id),
    )


@pytest.mark.django_db
def test_history_user_is_the_actor_when_a_celery_task_does_the_change(north, manager):
    cyl = Product.objects.get(code="12.7KG")
    receive_in_a_worker.apply(args=[north.pk, cyl.pk, manager.pk]).get()
    level_history = north_level_history(north, cyl)
    assert [h.history_user for h in level_history] == [manager]


def north_level_history(depot, product):
    from stock.models import StockLevel

    level = StockLevel.objects.get(depot=depot, product=product, sales_rep=None)
    return list(level.history.filter(history_type="~"))


@pytest.mark.django_db
def test_history_user_for_an_import_and_a_command(head_office, capsys):
    call_command("seed_demo", "--force")
    admin = User.objects.get(username="admin")
    customer = Customer.objects.get(code="C001")
    assert {h.history_user for h in customer.rates.first().history.all()} == {admin}
    from sales.models import Transaction

    sale = Transaction.objects.filter(customer=customer).first()
    assert sale.history.earliest("history_date").history_user == sale.sales_rep


@pytest.mark.django_db
def test_history_is_on_every_admin_page_without_revert(client, head_office, a_day_of_business):
    from django.urls import reverse

    client.force_login(head_office)
    customer = a_day_of_business["customer"]
    page = client.get(reverse("admin:sales_customer_history", args=[customer.pk]))
    assert page.status_code == 200
    record = customer.history.first()
    detail = client.get(
        reverse("admin:sales_customer_simple_history", args=[customer.pk, record.history_id])
    )
    assert detail.status_code == 200
    assert detail.context["revert_disabled"] is True
    assert b'name="_save"' not in detail.content


@pytest.mark.django_db
def test_audit_browser_is_scoped_and_searchable(
    client, manager, a_day_of_business, south, head_office
):
    from django.urls import reverse

    stock_receive(depot=south, product=a_day_of_business["cyl"], quantity=1, actor=head_office)
    client.force_login(manager)
    url = reverse("admin:core_auditlog_changelist")
    entries = client.get(url).context["cl"].result_list
    assert {e.depot_id for e in entries} == {a_day_of_business["customer"].depot_id}
    found = client.get(url, {"q": a_day_of_business["sale"].number}).context["cl"].result_list
    assert [e.action for e in found] == ["sale_post"]


@pytest.mark.django_db
def test_a_deleted_customer_can_be_recovered(client, head_office, north):
    from django.urls import reverse
    from reversion.models import Version

    customer = Customer.objects.create(code="C777", name="Opened by mistake", depot=north)
    client.force_login(head_office)
    client.post(reverse("admin:sales_customer_delete", args=[customer.pk]), {"post": "yes"})
    assert not Customer.objects.filter(code="C777").exists()
    version = Version.objects.get_deleted(Customer).get()
    page = client.get(reverse("admin:sales_customer_recoverlist"))
    assert b"C777" in page.content
    client.post(
        reverse("admin:sales_customer_recover", args=[version.pk]),
        {
            "code": "C777",
            "name": "Opened by mistake",
            "depot": north.pk,
            "payment_type": "CASH",
            "last_meter_reading": "0",
            "is_active": "on",
        },
    )
    assert Customer.objects.filter(code="C777").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_chain_holds_after_sixteen_concurrent_writers(concurrently, north, head_office, capsys):
    def writer():
        for _ in range(10):
            audit_record(actor=head_office, action="test", obj=north, data={"n": 1})
        return True

    def in_a_transaction():
        with transaction.atomic():
            return writer()

    outcomes = concurrently([in_a_transaction] * 16)
    assert outcomes == [True] * 16
    seqs = list(AuditLog.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    call_command("verify_audit")
    assert "Audit chain intact" in capsys.readouterr().out


HISTORY_MODELS = [
    "core.user",
    "core.depot",
    "stock.product",
    "stock.stocklevel",
    "stock.distribution",
    "sales.customer",
    "sales.rate",
    "sales.transaction",
    "sales.payment",
]


@pytest.mark.django_db
@pytest.mark.parametrize("label", HISTORY_MODELS)
@pytest.mark.parametrize("role", ["MANAGER", "ADMIN"])
def test_nothing_is_saved_from_a_history_page(
    client, a_day_of_business, head_office, manager, label, role
):
    from django.apps import apps
    from django.urls import reverse

    model = apps.get_model(label)
    obj = next(o for o in model.objects.order_by("pk") if o.history.exists())
    if label == "core.user":
        obj = manager
    record = obj.history.order_by("history_id").first()
    client.force_login(head_office if role == "ADMIN" else manager)
    app, name = label.split(".")
    url = reverse(f"admin:{app}_{name}_simple_history", args=[obj.pk, record.history_id])
    before = obj.history.count()
    response = client.post(
        url, {"role": "ADMIN", "status": "POSTED", "quantity": 1, "name": "forged", "_save": "Save"}
    )
    assert response.status_code == 403
    assert obj.history.count() == before
    manager.refresh_from_db()
    assert manager.role == "MANAGER"


@pytest.mark.django_db
def test_a_history_page_for_a_nonsense_id_is_a_404(client, head_office):
    from django.urls import reverse

    client.force_login(head_office)
    assert client.get(reverse("admin:sales_customer_history", args=["abc"])).status_code == 404


@pytest.mark.django_db
def test_verify_audit_finds_an_entry_forged_at_the_end(a_day_of_business, head_office, capsys):
    from core.services import audit_hash

    last = AuditLog.objects.order_by("-seq").first()
    forged = AuditLog(
        seq=last.seq + 1,
        actor=head_office,
        action="sale_void",
        object_type="sales.transaction",
        object_id="1",
        data={},
        created_at=last.created_at,
        prev_hash=last.hash,
        writer_version=last.writer_version,
    )
    forged.hash = audit_hash(forged)
    forged.save()  # an INSERT: the triggers allow it, the head does not move
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert "were not appended by the application" in capsys.readouterr().err


@pytest.mark.django_db
def test_floats_in_audit_data_keep_the_chain_verifiable(north, head_office, capsys):
    entry = audit_record(
        actor=head_office, action="test", obj=north, data={"big": 1e16, "neg": -0.0, "x": 1.5}
    )
    entry.refresh_from_db()
    assert entry.data == {"big": "1e+16", "neg": "-0.0", "x": "1.5"}
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


@pytest.mark.django_db
def test_logging_in_writes_no_history(client, manager):
    before = manager.history.count()
    client.post(
        "/admin/login/", {"username": manager.username, "password": "correct-horse-battery"}
    )
    manager.refresh_from_db()
    assert manager.last_login is not None
    assert manager.history.count() == before


@pytest.mark.django_db
def test_audit_action_filter_lists_the_actions_once_and_filters(
    client, head_office, a_day_of_business, django_assert_max_num_queries
):
    from django.urls import reverse

    client.force_login(head_office)
    url = reverse("admin:core_auditlog_changelist")
    page = client.get(url)
    actions = next(f for f in page.context["cl"].filter_specs if f.title == "action")
    offered = [value for value, _ in actions.lookup_choices]
    assert "sale_post" in offered
    assert offered == sorted(set(offered))
    filtered = client.get(url, {"action__exact": "sale_post"}).context["cl"].result_list
    assert filtered
    assert {e.action for e in filtered} == {"sale_post"}
    with django_assert_max_num_queries(10):  # the values come from the cache now
        client.get(url)
