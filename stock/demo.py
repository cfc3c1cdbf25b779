"""Demo data for stock. The standard products come from a migration; check they are there."""

from stock.models import Product


def seed(*, stdout) -> dict:
    codes = list(Product.objects.filter(is_active=True).values_list("code", flat=True))
    stdout.write(f"Products: {', '.join(codes)}")
    return {}
