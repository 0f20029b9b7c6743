"""CSV exports that a spreadsheet cannot turn into formulas: every cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with an apostrophe (OWASP's advice for CSV injection)."""
import csv
import io
import itertools

from flask import Response, stream_with_context

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell as text a spreadsheet shows as written."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


def csv_response(filename, columns, rows):
    """A CSV download of ``rows`` under ``columns``, every cell neutralised, streamed line by line (a long export
    starts at once and is never held whole in memory)."""

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        for row in itertools.chain([columns], rows):
            writer.writerow([safe_cell(v) for v in row])
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
