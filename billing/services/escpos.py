"""Thermal copies: a document as lines of a 58 or 80 mm roll (32 or 48 columns), and those
lines as ESC/POS bytes for the handheld's Bluetooth printer. The bytes are written by hand
(a few dozen commands): fast, and nothing to install."""

import textwrap

from billing.services.layout import Document

COLUMNS = {58: 32, 80: 48}

ESC = b"\x1b"
GS = b"\x1d"
INIT = ESC + b"@"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
DOUBLE_ON, DOUBLE_OFF = GS + b"!\x11", GS + b"!\x00"
LEFT, CENTER = ESC + b"a\x00", ESC + b"a\x01"
FEED_AND_CUT = GS + b"V\x42\x03"  # feed 3 lines, then a partial cut
QR_COMMAND = GS + b"(k"
ENCODING = "cp437"  # the printers' default code page

# A line's style: "" plain, "b" bold, "c" centred, "bc" bold and centred, "h" the
# double-size heading (centred, half as many columns), "qr" the QR code's data.
Line = tuple[str, str]


def columns_for(width_mm: int) -> int:
    """32 columns on a 58 mm roll, 48 on an 80 mm one; any other width is refused."""
    if width_mm not in COLUMNS:
        raise ValueError(f"thermal width must be 58 or 80 mm, not {width_mm}")
    return COLUMNS[width_mm]


def _pair(left: str, right: str, columns: int) -> list[str]:
    """`left` and `right` on one line, right-aligned; `left` wraps when both do not fit."""
    room = columns - len(right) - 1
    if room >= len(left):
        return [left + " " * (columns - len(left) - len(right)) + right]
    wrapped = textwrap.wrap(left, columns) or [""]
    if len(wrapped[-1]) + len(right) + 1 <= columns:
        last = wrapped.pop()
        return [*wrapped, last + " " * (columns - len(last) - len(right)) + right]
    return [*wrapped, right.rjust(columns)]


def thermal_lines(document: Document, columns: int) -> list[Line]:
    """The roll's lines, none longer than `columns`."""
    rule = ("-" * columns, "")
    lines: list[Line] = [(part, "h") for part in textwrap.wrap(document.seller.name, columns // 2)]
    lines += [
        (part, "c") for text in document.seller.lines for part in textwrap.wrap(text, columns)
    ]
    lines += [rule, (document.title[:columns], "bc")]
    lines += [(text, "") for text in _pair(document.number, document.date, columns)]
    customer = [document.customer.name, *document.customer.lines]
    lines += [(part, "") for text in customer for part in textwrap.wrap(text, columns)]
    for label, value in document.facts:
        lines += [(text, "") for text in _pair(label, value, columns)]
    if document.items:
        lines.append(rule)
    for description, detail, amount in document.items:
        lines += [(part, "") for part in textwrap.wrap(description, columns)]
        lines += [(text, "") for text in _pair("  " + detail, amount, columns)]
    lines.append(rule)
    for index, (label, amount) in enumerate(document.totals):
        style = "b" if index == len(document.totals) - 1 else ""
        lines += [(text, style) for text in _pair(label, amount, columns)]
    for note in document.notes:
        lines += [(part, "") for part in textwrap.wrap(note, columns)]
    if document.qr:
        lines += [rule, (document.qr, "qr"), (f"Verify code {document.code}"[:columns], "c")]
    lines += [(part, "c") for text in document.footer for part in textwrap.wrap(text, columns)]
    return lines


def _qr(data: bytes) -> bytes:
    """GS ( k: model 2, module size 4, correction level M, store the data, print it."""
    size = len(data) + 3
    return (
        QR_COMMAND
        + b"\x04\x00\x31\x41\x32\x00"
        + QR_COMMAND
        + b"\x03\x00\x31\x43\x04"
        + QR_COMMAND
        + b"\x03\x00\x31\x45\x31"
        + QR_COMMAND
        + bytes([size % 256, size // 256])
        + b"\x31\x50\x30"
        + data
        + QR_COMMAND
        + b"\x03\x00\x31\x51\x30"
    )


def escpos_bytes(document: Document, *, width_mm: int = 80) -> bytes:
    """The document as ESC/POS: initialise, a double-size heading, the lines, bold
    totals, the QR code, feed and cut."""
    out = bytearray(INIT)
    for text, style in thermal_lines(document, columns_for(width_mm)):
        if style == "qr":
            out += CENTER + _qr(text.encode("ascii", "replace")) + b"\n" + LEFT
            continue
        data = text.encode(ENCODING, "replace")
        if style == "h":
            out += CENTER + DOUBLE_ON + BOLD_ON + data + BOLD_OFF + DOUBLE_OFF + b"\n" + LEFT
        elif style == "c":
            out += CENTER + data + b"\n" + LEFT
        elif style == "bc":
            out += CENTER + BOLD_ON + data + BOLD_OFF + b"\n" + LEFT
        elif style == "b":
            out += BOLD_ON + data + BOLD_OFF + b"\n"
        else:
            out += data + b"\n"
    return bytes(out + FEED_AND_CUT)
