"""Serializer fields and pagination every API view shares: codes for rows, strict
numbers, capped pages."""

from django.core.exceptions import (
    ObjectDoesNotExist,
)
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

from core.numbers import DECIMAL_FORMAT, WHOLE_FORMAT, TooLarge, plain_decimal, plain_whole
from core.numbers import TOO_LARGE as TOO_LARGE_NUMBER


class CodeField(serializers.SlugRelatedField):
    """A depot, product or customer named by its code (refuses text no code can hold).

    A code that names nothing the user may use says what was looked for, in the words of
    NOT_FOUND; it never says whether the code exists elsewhere (another depot's customer
    reads as an unknown one)."""

    NOT_FOUND = {
        "customer": "No customer {code} among yours.",
        "product": "No product {code}.",
        "depot": "No depot {code}.",
    }
    EXAMPLES = {"customer": "C001", "product": "12.7KG", "depot": "NORTH"}

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        noun = self.get_queryset().model._meta.model_name
        if not isinstance(data, str) or "\x00" in data or len(data) > 50 or not data.strip():
            example = self.EXAMPLES.get(noun)
            raise serializers.ValidationError(
                f"Give the {noun}'s code as text" + (f", such as {example}." if example else "."),
                code="invalid",
            )
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except ObjectDoesNotExist:
            message = self.NOT_FOUND.get(noun, "No {noun} {code}.")
            raise serializers.ValidationError(
                message.format(noun=noun, code=data), code="does_not_exist"
            ) from None


def _read_number(field, data, read):
    """`read(data)` for a serializer field: too large is the field's max_value refusal
    (what a number just past the bound is told), anything else its "invalid"."""
    try:
        return read(data)
    except TooLarge:
        if field.max_value is not None:
            field.fail("max_value", max_value=field.max_value)
        raise serializers.ValidationError(TOO_LARGE_NUMBER, code="max_value") from None
    except ValueError:
        field.fail("invalid")


class PlainDecimalField(serializers.DecimalField):
    """An amount or reading: a JSON integer or a plain decimal string ("12", "12.50",
    "-3.25" where negatives are allowed). A JSON float, an exponent ("1e2"), non-ASCII
    digits or grouping are refused (core.numbers), naming the field."""

    default_error_messages = {
        "invalid": f"A valid number is required: {DECIMAL_FORMAT}; as text or a JSON "
        "integer, not a float."
    }

    def to_internal_value(self, data):
        return super().to_internal_value(_read_number(self, data, plain_decimal))


class PlainIntegerField(serializers.IntegerField):
    """A count: a JSON integer or a string of digits ("12"); not 1.0, "1.0" or "1e0"."""

    default_error_messages = {"invalid": f"A valid integer is required: {WHOLE_FORMAT}."}

    def to_internal_value(self, data):
        return super().to_internal_value(_read_number(self, data, plain_whole))


class Pagination(LimitOffsetPagination):
    """limit/offset pages of at most 200 rows."""

    default_limit = 50
    max_limit = 200

    def get_limit(self, request):
        limit = super().get_limit(request)
        return None if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return min(super().get_offset(request), 10**12)


# A URL's document code: anything but a slash, a dot or a control character.
CODE_IN_URL = r"[^/.\x00-\x1f]+"
