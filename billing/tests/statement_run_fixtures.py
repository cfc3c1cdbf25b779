"""Fixtures for the monthly statement run's tests: a clock set back into last month (so
accounts are opened and documents posted in the month a run covers) and a book of credit
customers with a month's sales and payments. Import them by name into a test module."""

from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from billing.services.statement_run import previous_month


def last_month_moment(day: int = 15) -> datetime:
    """`day` of last month, 10:00 in the business time zone."""
    first = previous_month()
    return timezone.make_aware(datetime.combine(first + timedelta(days=day - 1), time(10)))


@contextmanager
def clock_at(moment: datetime):
    """Every service reads the time through django.utils.timezone.now: set it to `moment`."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def no_worker(monkeypatch):
    """Starts and postings hand nothing to a worker (the test runs the run itself)."""
    handed: list[int] = []
    monkeypatch.setattr(
        "billing.services.statement_run.statement_run_soon",
        lambda *, run_id: handed.append(run_id),
    )
    monkeypatch.setattr("core.services.outbox.outbox_send_soon", lambda: None)
    return handed


@pytest.fixture
def book(north, head_office, loaded_vehicle, products):
    """Last month's book: credit customers "mail" (e-mail), "paper" (chose paper),
    "bare" (no address), each sold one 12.7KG cylinder at 3000.00 and paid 1000.00;
    "closed_owing" (inactive, owes 3000.00), "closed_clear" (inactive, nothing) and a cash
    customer "cash". Returns {name: Customer}."""
    from sales.models import Customer
    from sales.services import payment_record, rate_set, sale_post

    cyl = products["12.7KG"]
    specs = {
        "mail": {"email": "mail@harbour.example"},
        "paper": {"email": "paper@harbour.example", "email_invoices": False},
        "bare": {"email": ""},
        "closed_owing": {"email": "owing@harbour.example"},
        "closed_clear": {"email": "clear@harbour.example"},
        "cash": {"email": "cash@harbour.example", "payment_type": "CASH"},
    }
    customers = {}
    moment = last_month_moment()
    with clock_at(moment):
        for n, (name, fields) in enumerate(specs.items(), start=1):
            fields = {"payment_type": "CREDIT", **fields}
            customer = Customer.objects.create(
                code=f"B{n:03d}", name=f"Book {name}", depot=north, created_at=moment, **fields
            )
            rate_set(customer=customer, product=cyl, rate=Decimal("3000"), actor=head_office)
            customers[name] = customer
        for name in ("mail", "paper", "bare", "closed_owing", "cash"):
            sale_post(
                customer=customers[name],
                sales_rep=loaded_vehicle,
                actor=loaded_vehicle,
                lines=[{"product": cyl, "quantity": 1}],
            )
        for name in ("mail", "paper", "bare"):
            payment_record(customer=customers[name], amount=Decimal("1000"), actor=head_office)
    for name in ("closed_owing", "closed_clear"):
        Customer.objects.filter(pk=customers[name].pk).update(is_active=False)
        customers[name].refresh_from_db()
    return customers
