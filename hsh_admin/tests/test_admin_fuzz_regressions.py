"""What the admin fuzzer (test_admin_fuzz.py) found, each pinned by one request."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.urls import reverse


@pytest.fixture
def office(client, head_office):
    get_user_model().objects.filter(pk=head_office.pk).update(is_superuser=True)
    client.force_login(head_office)
    return client


@pytest.mark.parametrize("selected", ["x", "", "1.5x"])
def test_an_action_on_rows_that_are_no_rows_is_a_bad_request(office, selected):
    """Django filters by the selected keys as posted: a word was a database error."""
    response = office.post(
        reverse("admin:sales_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [selected], "index": "0"},
    )
    assert response.status_code == 400
    assert b"not rows of this list" in response.content


def test_an_action_on_real_rows_still_runs(office, customer_factory):
    customer = customer_factory("CASH")
    response = office.post(
        reverse("admin:sales_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [str(customer.pk)], "index": "0"},
    )
    assert response.status_code == 200  # the confirmation page (or why it cannot be)
    assert b"not rows of this list" not in response.content
    assert b"delete customer" in response.content.lower()


def test_cleaning_up_expired_lockouts_from_the_changelist_works(office):
    """django-axes' action read a moment its middleware sets only on a login."""
    attempt = AccessAttempt.objects.create(
        username="someone",
        ip_address="10.0.0.9",
        user_agent="",
        http_accept="",
        path_info="/admin/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    response = office.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert "expired access attempts" in response.content.decode()


@pytest.mark.parametrize("query", ["date_from=x", "unknown=1", "payment_type=CASH"])
def test_exporting_the_rate_table_with_a_filter_it_does_not_have_is_a_bad_request(office, query):
    """import-export's export page built the changelist without catching its refusal."""
    response = office.get(f"{reverse('admin:sales_ratetable_export')}?{query}")
    assert response.status_code == (200 if query == "payment_type=CASH" else 400)


@pytest.mark.parametrize("day_of_week", ["-1", "8-1", "mon-x"])
def test_a_crontab_that_celery_cannot_read_is_shown_not_a_server_error(office, day_of_week):
    """django-celery-beat's "human readable" column let celery's ParseException out."""
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="0", hour="2")
    url = reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk])
    data = {
        "minute": "0", "hour": "2", "day_of_month": "*", "month_of_year": "*",
        "day_of_week": day_of_week, "timezone": "UTC",
    }  # fmt: skip
    assert office.post(url, data).status_code < 500
    CrontabSchedule.objects.filter(pk=crontab.pk).update(day_of_week=day_of_week)
    assert office.get(url).status_code == 200
    listed = office.get(reverse("admin:django_celery_beat_crontabschedule_changelist"))
    assert listed.status_code == 200
