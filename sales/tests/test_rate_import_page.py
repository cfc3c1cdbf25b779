"""The rate import page as a clerk reads it: what stops an import is a table (row, column,
the cell as typed, the problem in a sentence), the preview shows each rate in force beside
the new one, files with the old headings ("9kg") are still read, and the rate table's
columns are headed in words ("12.7 kg rate")."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sales.models import RateImport
from sales.resources import COLUMNS

pytestmark = pytest.mark.django_db


def upload(client, text):
    file = SimpleUploadedFile("rates.csv", text.encode(), content_type="text/csv")
    url = reverse("admin:sales_ratetable_import")
    return client.post(url, {"resource": 0, "format": 0, "import_file": file})


def table_rows(body, table_id):
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', body, re.S)
    assert table, f"no table #{table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
        if "<td" in r
    ]


@pytest.fixture
def clerk(client, head_office):
    client.force_login(head_office)
    return client


def test_problems_are_a_table_of_row_column_value_and_sentence(clerk, customer_factory):
    a = customer_factory()
    data = ",".join(COLUMNS) + f"\n{a.code},x,,1e3,,,,,\nNOBODY,y,,,,,,,\n"
    body = upload(clerk, data).content.decode()
    rows = table_rows(body, "import-problems")
    assert [
        "2",
        "9 kg rate",
        "1e3",
        "Enter an amount such as 1234.50; got &#x27;1e3&#x27;.",
    ] in rows
    assert any(r[0] == "3" and "Unknown customer" in r[3] for r in rows), rows
    assert "validation-error-count" not in body  # no hover badges
    assert "2 problems stop this import" in body
    assert not RateImport.objects.exists()


def test_a_whole_file_problem_reads_whole_file(clerk, customer_factory):
    headers = [c for c in COLUMNS if c != "14 kg rate"]
    body = upload(clerk, ",".join(headers) + "\nC001,x,,,,,,\n").content.decode()
    rows = table_rows(body, "import-problems")
    assert rows[0][:3] == ["whole file", "—", "—"]
    assert "has no column &#x27;14 kg rate&#x27;" in rows[0][3]


def test_the_preview_shows_old_beside_new(clerk, customer_factory):
    a, b = customer_factory(), customer_factory()
    # The headings of an older export (9kg, 12.7kg) are still read.
    old_headings = ["customer code", "name", "meter rate", "9kg", "12.7kg", "14kg"]
    old_headings += ["50kg POL", "50kg L", "effective from"]
    data = ",".join(old_headings) + f"\n{a.code},x,,2450,,,,,\n{b.code},y,,,,,,,\n"
    body = upload(clerk, data).content.decode()
    assert table_rows(body, "rate-changes") == [
        [a.code, a.name, "9 kg rate", "2,200.00", "2,450.00", "at once"]
    ]
    assert "1 row of the file changes nothing." in body
    assert "<del>" not in body
    assert "<ins>" not in body
    assert 'name="confirm"' in body
    assert "Cancel" in body


def test_the_rate_table_columns_are_headed_in_words(clerk, customer_factory):
    customer_factory()
    body = clerk.get(reverse("admin:sales_ratetable_changelist")).content.decode()
    for heading in ("Meter rate", "9 kg rate", "12.7 kg rate", "50 kg POL rate"):
        assert heading in body
    assert "12.7kg" not in body
