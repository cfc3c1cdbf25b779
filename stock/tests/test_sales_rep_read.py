"""stock.services.checks.sales_rep_home_depot reads the representative and their home
depot in one statement before a posting (lock=False) and under a shared lock inside it:
both ways name the same problems."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import User
from stock.services.checks import sales_rep_home_depot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lock", [False, True])
def test_the_home_depot_comes_back_whole(sales_rep, north, lock):
    with transaction.atomic():
        home = sales_rep_home_depot(sales_rep, lock=lock)
    assert home == north
    assert (home.code, home.name, home.is_active) == ("NORTH", north.name, True)
    assert home.is_active is True  # a bool, also where the database gives 1


@pytest.mark.parametrize("lock", [False, True])
def test_a_representative_without_a_depot_is_told_so(user_factory, north, lock):
    rep = user_factory("SALES", depots=[north])
    User.depots.through.objects.filter(user=rep).delete()  # a row left so by hand
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        sales_rep_home_depot(rep, lock=lock)
    assert exc.value.message_dict["sales_rep"] == [f"{rep.username} has no home depot."]


@pytest.mark.parametrize("lock", [False, True])
def test_a_user_who_is_not_there_is_not_a_representative(sales_rep, lock):
    gone = User(pk=sales_rep.pk + 1000, username="gone")
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        sales_rep_home_depot(gone, lock=lock)
    assert exc.value.message_dict["sales_rep"] == ["gone is not an active sales representative."]
