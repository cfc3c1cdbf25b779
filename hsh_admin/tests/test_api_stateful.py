"""schemathesis, stateful: sequences of calls that follow the schema's links (a customer
listed -> a sale posted to it -> that sale's pages; a payment, return, cash-up or
distribution posted -> its pages) never get a 5xx, for a sales representative, their
depot manager and head office.

Links come from two places: those the API declares (core.api.schema_links: a posted
document's number opens its pages) and those schemathesis infers from the schema (a
customer's code in a list feeds a sale's "customer").

derandomize: CI runs the same scenarios each time. To explore further, run it with
HSH_FUZZ_EXAMPLES=200 HSH_FUZZ_RANDOM=1 (new scenarios each run)."""

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from core.auth import VersionedRefreshToken as RefreshToken
from core.models import User
from sales.models import Customer
from sales.services import deposit_set, payment_record, rate_set, sale_post
from stock.models import Product
from stock.services import distribution_create, stock_receive

EXAMPLES = int(os.environ.get("HSH_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("HSH_FUZZ_RANDOM") == "1"


def _schema():
    from hsh_admin.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _schema()

# Besides what the schema generates (nearly always refused: a random customer code, a
# product that does not exist), each posting sometimes sends one of these, which the
# business fixture below makes postable: documents get posted and their links followed.
POSTABLE = {
    "POST /api/sales/": [
        {"customer": "C2", "lines": [{"product": "12.7KG", "quantity": 1, "empties_returned": 1}]},
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 2, "empties_returned": 0}]},
    ],
    "POST /api/payments/": [{"customer": "C1", "amount": "50.00", "method": "CASH"}],
    "POST /api/returns/": [
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 1}]},
        {
            "customer": "C1",
            "lines": [{"product": "12.7KG", "quantity": 1}],
            "sales_rep": "northrep",
        },
    ],
    "POST /api/cashups/": [{"counted_cash": "100.00", "note": "end of day"}],
    "POST /api/distributions/": [
        {"kind": "COLLECTION", "lines": [{"product": "12.7KG", "quantity": 1}]},
        {"kind": "EMPTY_RETURN", "lines": [{"product": "12.7KG", "quantity": 1}]},
    ],
}


@schema.hook
def before_generate_body(context, strategy):
    bodies = POSTABLE.get(context.operation.label) if context.operation else None
    return strategy | st.sampled_from(bodies) if bodies else strategy


APIWorkflow = schema.as_state_machine()


class Workflow(APIWorkflow):
    """Signs each call in as `user` (re-read each time: a log-out on the way raises the
    token version, and the next call signs in again) and checks only for 5xx."""

    user_id: int = 0
    seen: Counter = Counter()

    def get_call_kwargs(self, case):
        user = User.objects.get(pk=self.user_id)
        token = RefreshToken.for_user(user).access_token
        return {"headers": {"Authorization": f"Bearer {token}"}}

    def after_call(self, response, case):
        super().after_call(response, case)
        self.seen[(case.operation.label, response.status_code)] += 1

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, checks=[not_a_server_error])


@pytest.fixture(autouse=True)
def business(db, north, head_office, sales_rep, manager):
    """Stock on the vehicle, a cash and a credit customer with rates and deposits, and a
    posted sale and payment, so that lists have something to link from."""
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=500, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=200,
        kind="COLLECTION",
        actor=sales_rep,
    )
    deposit_set(product=cyl, amount="500", actor=head_office)
    for code, payment_type in (("C1", "CREDIT"), ("C2", "CASH")):
        customer = Customer.objects.create(
            code=code,
            name=f"Hotel {code}",
            depot=north,
            payment_type=payment_type,
            credit_limit="1000000",
        )
        rate_set(customer=customer, product=cyl, rate="3000", actor=head_office)
    credit = Customer.objects.get(code="C1")
    sale_post(
        customer=credit,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 1, "empties_returned": 0}],
    )
    payment_record(customer=credit, amount="100", actor=sales_rep)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calling the WSGI app directly fires request_finished, whose handler would close the
    test's own database connection; Django's test client disconnects it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _run(user) -> Counter:
    class Signed(Workflow):
        user_id = user.pk
        seen: Counter = Counter()

    settings = hypothesis_settings(
        max_examples=EXAMPLES,
        stateful_step_count=8,
        deadline=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    test_case = Signed.TestCase
    test_case.settings = settings
    test_case().runTest()
    return Signed.seen


def _summary(seen: Counter) -> str:
    return "\n".join(f"{label} {status}: {n}" for (label, status), n in sorted(seen.items()))


@pytest.mark.parametrize("who", ["sales_rep", "manager", "head_office"])
def test_linked_calls_never_get_a_server_error(who, request):
    user = request.getfixturevalue(who)
    seen = _run(user)
    print(_summary(seen))
    assert not [key for key in seen if key[1] >= 500], _summary(seen)
    # The machine did follow the API: some calls succeeded, and some were made with a
    # value taken from an earlier response (a link): a GET of one document by its key.
    assert any(status < 300 for _, status in seen), _summary(seen)
    assert any("{" in label and status == 200 for label, status in seen), _summary(seen)
