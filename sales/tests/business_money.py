"""The money half of the whole-business state machine (test_business_stateful): payments
(receipts settling the oldest credit sales) and their reversals, and the representatives'
cash-ups (what they hand in against what the model expects) and their confirmation by
head office. A mixin: BusinessMachine provides customers, reps, boss, terms, money
(business_model.Ledger), payments, cashups and attempt (business_stock.StockRules)."""

from decimal import Decimal

from django.conf import settings as django_settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from sales.services import cashup_confirm, cashup_post, payment_record, payment_reverse
from sales.tests.business_model import ZERO, CashUpRecord, PaymentRecord
from sales.tests.business_stock import REPS

pick = st.integers(0, 10_000)
customers = st.integers(0, 2)


class MoneyRules:
    # --- money: payments, reversals, cash-ups -----------------------------------------------

    @rule(
        customer=customers,
        amount=st.sampled_from(["0", "40.00", "333.33", "1500.00"]),
        method=st.sampled_from(["CASH", "CHEQUE", "BANK"]),
        receiver=st.sampled_from([0, 1, None]),
        reference=st.sampled_from(["", "CHQ 7781"]),
    )
    def pay(self, customer, amount, method, receiver, reference):
        credit = self.terms[customer][0]
        codes = set()
        if Decimal(amount) <= 0:
            codes.add("amount_too_small")
        elif method != "CASH" and not reference:
            codes.add("reference_required")
        elif not credit:
            codes.add("cash_customer_owes_nothing")  # a cash customer's sales are paid
        actor = self.boss if receiver is None else self.reps[receiver]
        payment = self.attempt(
            codes,
            lambda: payment_record(
                customer=self.customers[customer],
                amount=amount,
                actor=actor,
                method=method,
                reference=reference,
            ),
        )
        if payment is None:
            return
        self.money.balance[customer] -= Decimal(amount)
        if method == "CASH" and receiver is not None:
            self.money.cash[receiver] += Decimal(amount)
        self.payments.append(PaymentRecord(payment, customer, Decimal(amount), method, receiver))

    @precondition(lambda self: self.payments)
    @rule(which=pick)
    def reverse(self, which):
        record = self.payments[which % len(self.payments)]
        call = lambda: payment_reverse(payment=record.obj, actor=self.boss, reason="cheque bounced")  # noqa: E731
        if self.attempt({"already_reversed"} if record.reversed else set(), call) is None:
            return
        record.reversed = True
        self.money.balance[record.customer] += record.amount
        if record.method == "CASH" and record.receiver is not None:
            self.money.cash[record.receiver] -= record.amount

    @rule(
        rep=st.sampled_from(REPS),
        variance=st.sampled_from(["0", "-5.00", "2.50"]),
        by_boss=st.booleans(),
    )
    def cash_up(self, rep, variance, by_boss):
        expected = self.money.cash[rep]
        counted = expected + Decimal(variance)
        cashup = self.attempt(
            {"amount_too_small"} if counted < 0 else set(),
            lambda: cashup_post(
                sales_rep=self.reps[rep],
                counted_cash=counted,
                actor=self.boss if by_boss else self.reps[rep],
            ),
        )
        if cashup is None:
            return
        assert (cashup.expected_cash, cashup.counted_cash) == (expected, counted)
        assert cashup.variance == Decimal(variance)
        self.money.cash[rep] = ZERO
        self.cashups.append(CashUpRecord(cashup, by_boss, Decimal(variance)))

    @precondition(lambda self: self.cashups)
    @rule(which=pick, note=st.sampled_from(["", "counted again with the manager"]))
    def confirm(self, which, note):
        record = self.cashups[which % len(self.cashups)]
        codes = set()
        if record.by_boss:
            codes.add("own_cashup")  # the one who counted does not confirm
        elif record.confirmed:
            codes.add("already_confirmed")
        elif abs(record.variance) > django_settings.CASHUP_VARIANCE_TOLERANCE and not note:
            codes.add("note_required")
        call = lambda: cashup_confirm(cashup=record.obj, actor=self.boss, note=note)  # noqa: E731
        if self.attempt(codes, call) is not None:
            record.confirmed = True
