"""How a document's page names things: products by their name (with the code beside
it), rates by what they are for ("12.7 kg rate"), never by an internal code alone."""

from stock.models import Product


def product_words(product: Product) -> str:
    """A product as a clerk names it: "12.7 kg cylinder (12.7KG)"; the code alone when
    the product has no other name."""
    if product.name and product.name != product.code:
        return f"{product.name} ({product.code})"
    return product.code


def rate_label(product: Product) -> str:
    """A rate's label as words: "12.7 kg rate", "Bulk LPG (metered tank) rate"."""
    name = (product.name or product.code).replace(" cylinder", "")
    return f"{name} rate"
