"""Every change to stock. Each public service is one transaction, retried on a lock
conflict, that validates first (writing nothing on a refusal), locks the stock levels it
touches in id order, moves the stock with a ledger row and writes its audit entry.

- ledger: the raw-SQL primitives (LevelKey, levels_lock, movement_post, movements_post,
  levels_move, ledger_write); sales.services moves stock inside a sale with them.
- checks: the input checks (whole_number up to MAX_QUANTITY, cylinder_check,
  depot_check, availability_check, sales_rep_home_depot).
- stock: stock_receive and stock_adjust; distributions: distribution_post (a load sheet
  or empty return with several products) and distribution_create (its one-line case).
- dispatch: empties_dispatch (empties to the filling plant); transfers: stock_transfer
  (depot to depot, TRF-); writeoffs: stock_write_off; counts: stock_count_post (a count
  sheet, CNT-); lines: the checked lines of those documents.
- products: product_create and product_update (master data, with their audit entries).
- vehicles: a representative's vehicle and depot (vehicle_transfer_guard,
  vehicle_levels_follow, user_depots_changed).

Lock order (docs/architecture.md), for every posting here and in sales.services: the
customer (sales only), then the representative's user row (FOR SHARE, taken by
sales_rep_home_depot before it reads their depot), then stock levels by id (levels_lock),
then the document counter and the audit chain head. A change of a representative's depot
or role locks the same user row (FOR NO KEY UPDATE, in vehicle_transfer_guard) before it
looks at the vehicle: a posting that read the old depot and the change that would move
its stock away never overlap.

A service calls its neighbours through its own module: a test that patches one (say
levels_lock for distribution_create) patches the module that reads it
(stock.services.distributions), not this package.
"""

from stock.services.checks import (
    MAX_QUANTITY,
    availability_check,
    cylinder_check,
    depot_check,
    sales_rep_home_depot,
    state_check,
    whole_number,
)
from stock.services.counts import stock_count_post
from stock.services.dispatch import empties_dispatch
from stock.services.distributions import distribution_create, distribution_post
from stock.services.ledger import (
    LevelKey,
    Move,
    ledger_rows,
    ledger_write,
    levels_lock,
    levels_move,
    movement_post,
    movements_post,
)
from stock.services.products import product_create, product_update
from stock.services.reorder import low_stock_alerts_send, reorder_level_set
from stock.services.stock import stock_adjust, stock_receive
from stock.services.transfers import stock_transfer
from stock.services.vehicles import (
    user_depots_changed,
    vehicle_levels_follow,
    vehicle_transfer_guard,
)
from stock.services.writeoffs import WRITE_OFF_REASON_MAX_LENGTH, stock_write_off

__all__ = [
    "MAX_QUANTITY",
    "WRITE_OFF_REASON_MAX_LENGTH",
    "LevelKey",
    "Move",
    "availability_check",
    "cylinder_check",
    "depot_check",
    "distribution_create",
    "distribution_post",
    "empties_dispatch",
    "ledger_rows",
    "ledger_write",
    "levels_lock",
    "levels_move",
    "low_stock_alerts_send",
    "movement_post",
    "movements_post",
    "product_create",
    "product_update",
    "reorder_level_set",
    "sales_rep_home_depot",
    "state_check",
    "stock_adjust",
    "stock_count_post",
    "stock_receive",
    "stock_transfer",
    "stock_write_off",
    "user_depots_changed",
    "vehicle_levels_follow",
    "vehicle_transfer_guard",
    "whole_number",
]
