import pytest

from stock.models import Product


@pytest.fixture
def cyl(db):
    return Product.objects.get(code="12.7KG")


@pytest.fixture
def nine(db):
    return Product.objects.get(code="9KG")


@pytest.fixture
def bulk(db):
    return Product.objects.get(code="BULK")
