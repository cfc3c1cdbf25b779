"""Text for spreadsheets: cells a spreadsheet would run as a formula are escaped.

Excel, LibreOffice and Google Sheets treat a cell that starts with =, +, - or @ (or a tab
or carriage return before one) as a formula, in CSV and, once edited, in XLSX too: a
customer named '=HYPERLINK("http://…")' or a receipt note would run on head office's
machine. Every export writes text through `spreadsheet_text`, which puts a single quote
in front, as OWASP recommends; spreadsheets show the text as typed. Numbers are written
as numbers and never pass through it, so -5 stays -5.
"""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# For SQL (reporting's COPY export): their character codes, as PostgreSQL's ascii() gives
# the first character's (comparing integers is cheaper than cutting text).
FORMULA_START_CODES = tuple(ord(c) for c in FORMULA_START)


def spreadsheet_text(value: str) -> str:
    """`value` as a text cell no spreadsheet will evaluate."""
    return "'" + value if value.startswith(FORMULA_START) else value


def spreadsheet_text_undo(value: str) -> str:
    """The inverse, for a cell read back from a file we exported."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
