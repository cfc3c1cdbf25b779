"""Cash-ups under real concurrency (PostgreSQL, threads, committed data): CU- numbers stay
gapless (invariant 6), and every cash document counts in exactly one cash-up, also one
posted while a cash-up runs."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from sales.day_models import CashUp
from sales.day_selectors import cash_expected
from sales.models import Payment, Transaction
from sales.services import cashup_post, payment_record, sale_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cash_up_numbers_stay_gapless_across_representatives(concurrently, user_factory, north):
    reps = [user_factory("SALES", depots=[north]) for _ in range(6)]
    calls = [
        (lambda rep=rep: cashup_post(sales_rep=rep, counted_cash="0", actor=rep))
        for rep in reps
        for _ in range(3)
    ]
    outcomes = concurrently(calls)
    assert all(isinstance(o, CashUp) for o in outcomes), outcomes
    year = timezone.localdate().year
    numbers = sorted(CashUp.objects.values_list("number", flat=True))
    assert numbers == [f"CU-{year}-{n:06d}" for n in range(1, 19)]
    for rep in reps:  # each representative's cash-ups chain: one period after the other
        chain = list(CashUp.objects.filter(sales_rep=rep).order_by("created_at"))
        assert [c.period_start for c in chain] == [None, *(c.created_at for c in chain[:-1])]


def test_documents_posted_during_cash_ups_count_in_exactly_one(
    concurrently, customer_factory, loaded_vehicle, products
):
    """Sales (which lock the representative) and cash payments (which do not) race three
    cash-ups; a last cash-up afterwards. The cash-ups' expected cash adds up to exactly
    the cash taken: nothing counted twice, nothing missed."""
    rep = loaded_vehicle
    cyl = products["12.7KG"]
    cash = customer_factory("CASH")
    credit = customer_factory("CREDIT")

    def sell():
        return sale_post(
            customer=cash, sales_rep=rep, actor=rep, lines=[{"product": cyl, "quantity": 1}]
        )

    def pay(i):
        return lambda: payment_record(customer=credit, amount=str(10 + i), actor=rep)

    def cash_up():
        return cashup_post(sales_rep=rep, counted_cash="0", actor=rep)

    calls = []
    for i in range(12):
        calls.append(sell)
        calls.append(pay(i))
        if i % 4 == 0:
            calls.append(cash_up)
    outcomes = concurrently(calls)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    cashup_post(sales_rep=rep, counted_cash="0", actor=rep)

    taken = (
        Transaction.objects.filter(sales_rep=rep, payment_type="CASH").aggregate(
            total=Sum("total_amount")
        )["total"]
        + Payment.objects.filter(received_by=rep).aggregate(total=Sum("amount"))["total"]
    )
    assert taken == Decimal("36000.00") + sum(Decimal(10 + i) for i in range(12))
    expected = CashUp.objects.filter(sales_rep=rep).aggregate(total=Sum("expected_cash"))
    assert expected["total"] == taken
    assert CashUp.objects.filter(sales_rep=rep).count() == 4
    assert cash_expected(sales_rep=rep).expected == 0


def test_one_key_sent_at_once_posts_one_cash_up(
    concurrently, sales_rep, manager, user_factory, north
):
    """The representative's handheld retrying at once: one cash-up, the others replay it.
    A manager's key reused at once for two representatives: one posts, one is refused."""
    outcomes = concurrently(
        [
            lambda: cashup_post(
                sales_rep=sales_rep, counted_cash="5", actor=sales_rep, idempotency_key="same"
            )
            for _ in range(4)
        ]
    )
    assert all(isinstance(o, CashUp) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    other = user_factory("SALES", depots=[north])
    outcomes = concurrently(
        [
            lambda rep=rep: cashup_post(
                sales_rep=rep, counted_cash="0", actor=manager, idempotency_key="mgr"
            )
            for rep in (sales_rep, other)
        ]
    )
    posted = [o for o in outcomes if isinstance(o, CashUp)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(posted), len(refused)) == (1, 1), outcomes
    assert refused[0].error_dict["idempotency_key"][0].code == "idempotency_key_reused"
    assert CashUp.objects.filter(created_by=manager).count() == 1
