"""The field API's JSON parser: a body nested deeper than any document is refused.

Kept apart from core.api: DRF reads DEFAULT_PARSER_CLASSES while rest_framework.views is
being imported, and core.api imports that module.
"""

import codecs
from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# The deepest a document gets is about five levels (a sync batch of sales with lines).
MAX_DEPTH = 32
TOO_DEEP = f"The JSON is nested too deeply (more than {MAX_DEPTH} levels)."


class JSONParser(parsers.JSONParser):
    """DRF's parser, refusing bodies nested deeper than MAX_DEPTH (which would otherwise
    exhaust Python's recursion limit, in the parser or later) as a 400 parse_error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = self._load(stream, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        return data

    def _load(self, stream, parser_context):
        """DRF's JSONParser.parse, with one change: a JSON integer longer than Python
        converts (4,300 digits) arrives as a Decimal, so the field it was sent for refuses
        it as too large, naming itself (core.numbers), instead of the whole body failing
        with a message about sys.set_int_max_str_digits."""
        try:
            decoded = codecs.getreader(parsers.get_encoding(parser_context or {}))(stream)
            parse_constant = json.strict_constant if self.strict else None
            return json.load(decoded, parse_constant=parse_constant, parse_int=_integer)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


def _integer(text: str):
    return int(text) if len(text) <= 4000 else Decimal(text)


def _depth_exceeds(data, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in value)
    return False
