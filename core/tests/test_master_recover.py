"""Deleting and recovering master data (core.services.master_delete / master_recovered,
core.admin_mixins.RecoverableAdminMixin): a delete is a service with its audit entry and
refuses a row others refer to; "Recover deleted" only recovers a deleted row of its own
screen's model, checks it and audits it."""

import pytest
import reversion
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from reversion.models import Version

from core.models import AuditLog, Depot
from core.services import depot_update, master_delete
from sales.models import Customer

pytestmark = pytest.mark.django_db

FORM = {
    "code": "C777",
    "name": "Opened by mistake",
    "payment_type": "CREDIT",
    "credit_limit": "500.00",
    "last_meter_reading": "0",
    "is_active": "on",
    "email_invoices": "on",
}


@pytest.fixture
def mistake(north):
    return Customer.objects.create(
        code="C777", name="Opened by mistake", depot=north, payment_type="CREDIT", credit_limit=500
    )


def delete_in_admin(client, customer):
    return client.post(reverse("admin:sales_customer_delete", args=[customer.pk]), {"post": "yes"})


def test_the_admin_deletes_through_the_service_with_an_audit_entry(client, head_office, mistake):
    client.force_login(head_office)
    assert delete_in_admin(client, mistake).status_code == 302
    assert not Customer.objects.filter(code="C777").exists()
    entry = AuditLog.objects.get(action="customer_delete")
    assert entry.actor == head_office
    assert entry.object_id == str(mistake.pk)
    assert entry.data["customer"] == "C777"
    assert entry.data["values"]["credit_limit"] == "500.00"
    assert entry.data["values"]["depot"] == "NORTH"
    assert Version.objects.get_deleted(Customer).get().revision.comment == "Deleted"


def test_the_delete_action_deletes_each_through_the_service(client, head_office, mistake, north):
    other = Customer.objects.create(code="C778", name="Twice", depot=north)
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [mistake.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="customer_delete").count() == 2
    assert Version.objects.get_deleted(Customer).count() == 2


def test_recovery_is_checked_and_audited(client, head_office, mistake, north):
    client.force_login(head_office)
    delete_in_admin(client, mistake)
    version = Version.objects.get_deleted(Customer).get()
    response = client.post(
        reverse("admin:sales_customer_recover", args=[version.pk]),
        {**FORM, "depot": north.pk, "credit_limit": "750.00"},
    )
    assert response.status_code == 302, response.content
    customer = Customer.objects.get(code="C777")
    assert customer.credit_limit == 750
    recovered = AuditLog.objects.get(action="customer_recover")
    assert recovered.actor == head_office
    assert recovered.data["values"]["credit_limit"] == "750.00"
    update = AuditLog.objects.get(action="customer_update")  # the form's own change
    assert update.data["changes"]["credit_limit"] == {"old": "500.00", "new": "750.00"}


def test_recovery_into_a_closed_depot_is_refused_and_writes_nothing(
    client, head_office, mistake, north
):
    client.force_login(head_office)
    delete_in_admin(client, mistake)
    depot_update(depot=north, actor=head_office, data={"is_active": False})
    version = Version.objects.get_deleted(Customer).get()
    before = AuditLog.objects.count()
    response = client.post(
        reverse("admin:sales_customer_recover", args=[version.pk]), {**FORM, "depot": north.pk}
    )
    assert response.status_code == 200
    assert "closed" in str(response.context["adminform"].form.errors)
    assert not Customer.objects.filter(code="C777").exists()
    assert AuditLog.objects.count() == before


def test_recover_answers_404_for_a_version_of_a_row_that_exists(client, head_office, mistake):
    with reversion.create_revision():
        reversion.add_to_revision(mistake)
    version = Version.objects.get_for_object(mistake).get()
    Customer.objects.filter(pk=mistake.pk).update(credit_limit=10)
    client.force_login(head_office)
    url = reverse("admin:sales_customer_recover", args=[version.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {**FORM, "depot": mistake.depot_id}).status_code == 404
    mistake.refresh_from_db()
    assert mistake.credit_limit == 10


def test_recover_answers_404_for_another_models_version(client, head_office, depot_factory):
    west = depot_factory("WEST")
    master_delete(obj=west, actor=head_office)
    version = Version.objects.get_deleted(Depot).get()
    client.force_login(head_office)
    assert client.get(reverse("admin:sales_customer_recover", args=[version.pk])).status_code == 404
    assert (
        client.get(reverse("admin:sales_customer_recover", args=[99999999999])).status_code == 404
    )
    assert client.get(reverse("admin:core_depot_recover", args=[version.pk])).status_code == 200
    assert not Depot.objects.filter(code="WEST").exists()  # a GET writes nothing


def test_reverting_an_old_version_is_not_offered(rf, head_office, mistake):
    from django.contrib import admin
    from django.http import Http404

    request = rf.get("/")
    request.user = head_office
    with pytest.raises(Http404):
        admin.site._registry[Customer].revision_view(request, str(mistake.pk), "1")


def test_a_referenced_row_is_refused_whole(head_office, north, manager, customer_factory):
    customer = customer_factory()  # it has rates
    before = AuditLog.objects.count()
    with pytest.raises(ValidationError) as exc:
        master_delete(obj=customer, actor=head_office)
    assert exc.value.code == "referenced"
    assert "Close it (inactive) instead" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        master_delete(obj=north, actor=head_office)  # its manager
    assert exc.value.code == "referenced"
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert Depot.objects.filter(pk=north.pk).exists()
    assert AuditLog.objects.count() == before
    assert not Version.objects.get_deleted(Customer).exists()


def test_only_head_office_deletes(manager, mistake):
    with pytest.raises(PermissionDenied):
        master_delete(obj=mistake, actor=manager)
    assert Customer.objects.filter(pk=mistake.pk).exists()


def test_a_refused_delete_shows_as_a_message_and_deletes_nothing(
    client, head_office, mistake, monkeypatch
):
    import core.admin_mixins

    def refuse(*, obj, actor):
        raise ValidationError("Customer C777 cannot be deleted: sales refer to it.", code="x")

    monkeypatch.setattr(core.admin_mixins, "master_delete", refuse)
    client.force_login(head_office)
    response = delete_in_admin(client, mistake)
    assert response.status_code == 302
    page = client.get(response.url)
    assert b"cannot be deleted: sales refer to it" in page.content
    response = client.post(
        reverse("admin:sales_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [mistake.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert Customer.objects.filter(pk=mistake.pk).exists()
    assert not AuditLog.objects.filter(action="customer_delete").exists()
