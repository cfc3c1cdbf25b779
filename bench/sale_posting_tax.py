"""8. Sale posting with tax and the outbox row, against the posting before tax and e-mail.

The same clients as benchmark 1 (sale_posting: one process per client, its own
representative, vehicle and customers, 2-line cash sales), the same duration, three
cases run one after another, round after round, each round starting with the next case
(interleaved, so a busy machine slows each case alike):

- before: the posting as it was before tax and e-mailed invoices: sale_post with the tax
  rate's lock and lookup replaced, in that client process only, by "no tax" (rate 0), for
  customers without an e-mail address (no outbox row, nothing after the commit);
- tax: the real sale_post with a tax rate in force (18 %), customers without an e-mail
  address (no outbox row);
- tax + outbox: the real sale_post with the tax rate in force, for customers who take
  their invoices by e-mail: an outbox row in the sale's transaction, and after the
  commit the task that asks the workers to send it (a real send_task to the broker:
  set REDIS_URL to a Redis database of the benchmark's own; nothing consumes it).

Prints each case's sales/s per round, the median of the rounds, and the medians' ratios
against "before". Target: tax + outbox at least 0.9x before.
"""

import statistics
from decimal import Decimal

from django.conf import settings

from bench import dataset, sale_posting

NAME = "sale_posting_tax"
TAX_RATE = Decimal("18")
CASES = ("before", "tax", "tax + outbox")


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--tax-rounds",
        type=int,
        default=3,
        help="rounds of the three cases, interleaved (3); --clients and --sale-seconds "
        "are sale_posting's",
    )
    group.add_argument(
        "--tax-no-nudge",
        action="store_true",
        help="a fourth case: the outbox row without the task sent after the commit (where "
        "the outbox's cost goes; the beat would send those messages)",
    )


def _emailed_customers(setups):
    """Per client, customers like sale_posting's but with an e-mail address for their
    invoices (created through customer_create, priced through rate_set)."""
    from core.models import Depot
    from sales.models import Customer
    from sales.services import customer_create, rate_set
    from stock.models import Product

    admin = dataset.actors()
    depot = Depot.objects.get(code="BENCHPOST")
    products = [Product.objects.get(code="12.7KG"), Product.objects.get(code="9KG")]
    emailed = []
    for i, setup in enumerate(setups):
        customers = []
        for c in range(sale_posting.CUSTOMERS_PER_CLIENT):
            code = f"BE{i:02d}{c:03d}"
            customer = Customer.objects.filter(code=code).first()
            if customer is None:
                customer = customer_create(
                    code=code,
                    name=f"E-mailed customer {i}-{c}",
                    depot=depot,
                    actor=admin,
                    email=f"bench-{code.lower()}@example.com",
                    email_invoices=True,
                )
                for product, rate in zip(products, ("3000.00", "2200.00"), strict=True):
                    rate_set(customer=customer, product=product, rate=Decimal(rate), actor=admin)
            customers.append(customer.pk)
        emailed.append({**setup, "customers": customers})
    return emailed


def _tax_in_force():
    """An 18 % tax rate in force from now, unless one is already."""
    from sales.selectors import tax_rate_in_force
    from sales.services import tax_rate_set

    if tax_rate_in_force() != TAX_RATE:
        tax_rate_set(rate=TAX_RATE, actor=dataset.actors())


def _before_client(setup, products, start_at, seconds, results):
    """sale_post as it was before tax: no tax lock, no tax lookup, rate 0 (this process
    only: each client is a forked process of its own)."""
    from sales.services import sales as posting

    def no_tax(*, subtotal, at):
        return Decimal("0"), (subtotal, Decimal("0.00"), subtotal)

    posting.sale_tax = no_tax
    posting.tax_rate_lock = lambda **kwargs: None
    sale_posting._orm_client(setup, products, start_at, seconds, results)


def _no_nudge_client(setup, products, start_at, seconds, results):
    """The real sale_post and its outbox row, without the task sent after the commit
    (this process only): what the outbox row costs apart from the broker."""
    from core.services import outbox

    outbox.outbox_send_soon = lambda: None
    sale_posting._orm_client(setup, products, start_at, seconds, results)


def _queued():
    """Tasks waiting in the broker's default queue (nothing consumes them here)."""
    from hsh_admin.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(app.conf.task_default_queue)


def run(args):
    dataset.require_postgresql()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            {
                "case": "skipped",
                "reason": "set REDIS_URL (a Redis database of its own, e.g. "
                "redis://127.0.0.1:6379/14): with eager tasks the outbox is sent inside "
                "each posting",
            }
        ]
    setups, products = sale_posting._setup(args.clients)
    emailed = _emailed_customers(setups)
    _tax_in_force()
    cases = {
        "before": (_before_client, setups),
        "tax": (sale_posting._orm_client, setups),
        "tax + outbox": (sale_posting._orm_client, emailed),
    }
    names = CASES
    if args.tax_no_nudge:
        cases["outbox, no nudge"] = (_no_nudge_client, emailed)
        names = (*CASES, "outbox, no nudge")
    rates: dict[str, list[float]] = {case: [] for case in names}
    rows = []
    for round_no in range(1, args.tax_rounds + 1):
        # Each round starts with another case, so no case always follows the same one.
        shift = (round_no - 1) % len(names)
        for case in names[shift:] + names[:shift]:
            target, clients = cases[case]
            queued = _queued()
            rate = sale_posting._measure(target, clients, products, args.sale_seconds)
            rates[case].append(rate)
            rows.append(
                {
                    "round": round_no,
                    "case": repr(case),
                    "sales_per_s": f"{rate:.0f}",
                    "tasks_sent": _queued() - queued,
                }
            )
    before = statistics.median(rates["before"])
    for case in names:
        median = statistics.median(rates[case])
        # Each round's ratio compares runs a few seconds apart: steadier on a busy machine.
        paired = statistics.median(r / b for r, b in zip(rates[case], rates["before"], strict=True))
        rows.append(
            {
                "case": repr(case),
                "rounds": " / ".join(f"{r:.0f}" for r in rates[case]),
                "median_per_s": f"{median:.0f}",
                "vs_before": f"{median / before:.2f}",
                "median_of_round_ratios": f"{paired:.2f}",
                **({"target": ">= 0.90", "ok": median / before >= 0.9} if case != "before" else {}),
            }
        )
    return rows
