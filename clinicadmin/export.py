"""CSV exports that a spreadsheet cannot turn into formulas, whatever delimiter it splits them on.

Numbers are written as numbers. Every text cell is quoted (so a ``;`` or ``,`` in it never starts a new cell under
either delimiter), and a text cell a spreadsheet would read as a formula (one that starts, after any leading
whitespace, with ``=``, ``+``, ``-`` or ``@``, or their full-width forms, and is not a plain number) is prefixed with
an apostrophe (OWASP's advice for CSV injection).
"""

import itertools
import math
import re
from decimal import Decimal
from urllib.parse import quote

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def safe_cell(value):
    """A cell as a spreadsheet should show it: a number as the number, text as written (never as a formula)."""
    if _is_number(value):
        return value
    text = "" if value is None else str(value)
    stripped = text.lstrip(" \t\r\n")
    if stripped.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(stripped.rstrip()):
        return "'" + text
    return text


def csv_field(value):
    """One neutralised cell as it is written to the file: a number bare, text quoted."""
    cell = safe_cell(value)
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if _is_number(cell):
        return repr(cell) if isinstance(cell, float) else str(cell)
    return '"' + cell.replace('"', '""') + '"'


def content_disposition(filename):
    """An attachment header for any file name: an ASCII fallback and the exact name as RFC 5987 ``filename*``."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(filename, columns, rows):
    """A CSV download of ``rows`` under ``columns``, every cell neutralised, streamed line by line (a long export
    starts at once and is never held whole in memory)."""

    def lines():
        for row in itertools.chain([columns], rows):
            yield ",".join(csv_field(v) for v in row) + "\r\n"

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": content_disposition(filename)},
    )
