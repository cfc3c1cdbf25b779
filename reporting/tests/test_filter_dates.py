"""A report's date written the right way but not existing (29 February 2026) is told so,
not told to use the format it already has; the page, the JSON and the API agree."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from reporting.filters import FilterError, parse_filters

pytestmark = pytest.mark.django_db

NO_SUCH_DAY = "The date 2026-02-29 does not exist: February 2026 has 28 days."


@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_a_date_that_does_not_exist_is_called_that(head_office, name):
    with pytest.raises(FilterError) as exc:
        parse_filters({name: "2026-02-29"}, head_office)
    assert exc.value.errors == {name: NO_SUCH_DAY}


def test_a_date_in_another_format_is_still_told_the_format(head_office):
    with pytest.raises(FilterError) as exc:
        parse_filters({"date_from": "29/02/2026"}, head_office)
    assert exc.value.errors["date_from"] == "Enter a date as YYYY-MM-DD; got '29/02/2026'."


def test_a_leap_day_that_exists_is_taken(head_office):
    assert parse_filters({"date_from": "2028-02-29"}, head_office).date_from.isoformat() == (
        "2028-02-29"
    )


def test_the_report_page_and_the_api_say_it(client, head_office):
    client.force_login(head_office)
    url = reverse("reports:report", args=["sales-register"])
    page = client.get(url, {"date_from": "2026-02-29"})
    assert page.status_code == 400
    assert NO_SUCH_DAY in page.content.decode()
    api = APIClient()
    api.force_authenticate(head_office)
    response = api.get("/api/reports/sales-register/", {"date_from": "2026-02-29"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["date_from"] == [NO_SUCH_DAY]
