"""CSV exports that a spreadsheet cannot turn into formulas: every cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with an apostrophe (OWASP's advice for CSV injection)."""
import csv
import io

from flask import Response

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell as text a spreadsheet shows as written."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


def csv_response(filename, columns, rows):
    """A CSV download of ``rows`` under ``columns``, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
