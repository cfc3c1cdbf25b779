"""Fixtures for the outbox's tests: a posted sale, its outbox message, mail backends."""

import smtplib
import threading
import time

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from core.models import OutboxKind
from core.services import outbox_enqueue

SENT: list = []  # what RecordingBackend delivered, across threads
_lock = threading.Lock()


class RecordingBackend(BaseEmailBackend):
    """Delivers by appending to SENT, slowly (`DELAY` seconds a message), so two
    concurrent senders overlap."""

    DELAY = 0.0

    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(self.DELAY)
            with _lock:
                SENT.append(message)
        return len(email_messages)


class UnreachableBackend(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the address for good (550)."""

    def send_messages(self, email_messages):
        to = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({to: (550, b"5.1.1 No such user here")})


BACKENDS = "billing.tests.conftest."


@pytest.fixture
def recording(settings):
    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"
    SENT.clear()
    yield SENT
    SENT.clear()


@pytest.fixture
def sale(loaded_vehicle, customer_factory, products):
    """A posted cash sale to a customer without an e-mail address (so no message of its
    own): the document the tests' messages are about."""
    from sales.services import sale_post

    customer = customer_factory("CASH", email="")
    return sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
    )


@pytest.fixture
def enqueue(sale):
    """enqueue(to="buyer@example.com", document=sale): a message, as a posting writes it."""

    def make(to="buyer@example.com", document=None, kind=OutboxKind.INVOICE):
        document = document or sale
        with transaction.atomic():
            return outbox_enqueue(kind=kind, document=document, number=document.number, to=to)

    return make
