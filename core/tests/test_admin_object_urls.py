"""Whatever id a user puts in an object's address (change, history, delete and every
object page a ModelAdmin adds), the answer is Django's "doesn't exist" redirect or a
404, never a 500. The pages are walked from the admin registry, so a ModelAdmin (or an
object URL) added later is covered without a new row here."""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern

pytestmark = pytest.mark.django_db

BAD_IDS = ["abc", "1.0", "%00", "9" * 30, "-1", "1e2", "%20"]
ANSWERS = (200, 302, 400, 403, 404, 405)
# A path converter that takes the object's id: <path:object_id>, <int:pk>, <pk>...
OBJECT_ID = re.compile(r"<(?:\w+:)?(object_id|pk)>")


def _object_urls():
    """(admin url, pattern with one id placeholder) of every object page in the admin."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern):
                continue
            route = str(pattern.pattern)
            if OBJECT_ID.search(route):
                yield base, route


def test_the_walk_covers_every_kind_of_object_page():
    routes = {route for _, route in _object_urls()}
    assert {"<path:object_id>/change/", "<path:object_id>/history/"} <= routes
    assert "<path:object_id>/delete/" in routes
    assert len(list(_object_urls())) > 40


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_bad_id_on_any_object_page_is_not_a_500(client, head_office, bad_id):
    client.force_login(head_office)
    client.raise_request_exception = False  # a 500 is counted, not raised
    failures = []
    for base, route in _object_urls():
        path = base + OBJECT_ID.sub(bad_id, route, count=1)
        path = re.sub(r"<(?:\w+:)?\w+>", "1", path)  # any other placeholder (a version)
        status = client.get(path).status_code
        if status not in ANSWERS:
            failures.append((path, status))
    assert failures == []


def test_export_job_with_letters_for_an_id_is_the_usual_not_found(client, head_office):
    client.force_login(head_office)
    response = client.get("/admin/reporting/exportjob/abc/change/")
    assert response.status_code == 302  # Django's own "doesn't exist" redirect
    assert response.url == "/admin/"


def test_a_real_export_job_still_shows_with_its_refresh(client, head_office):
    from reporting.models import ExportJob

    job = ExportJob.objects.create(
        report="sales-register", format="csv", requested_by=head_office, filters={}
    )
    client.force_login(head_office)
    response = client.get(f"/admin/reporting/exportjob/{job.pk}/change/")
    assert response.status_code == 200
    assert response.context["refresh"] is True
