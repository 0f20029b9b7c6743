"""CSV downloads: numbers stay numbers, only text a spreadsheet would run is neutralised, no delimiter a spreadsheet
may choose (comma or semicolon) splits a cell into a formula, and any file name downloads (RFC 5987)."""

import csv
import io
from decimal import Decimal
from urllib.parse import unquote

import pytest

from clinicadmin.export import content_disposition, csv_field, safe_cell
from clinicadmin.treatment_flow import record

KEY = "testmod"

FORMULAS = [
    "=1+1",
    "+A1",
    "-A1",
    "@SUM(A1)",
    "-2+3",
    "+1-1",
    " =1+1",
    "\t=1+1",
    "\r\n@x",
    "\uff1d1+1",
    '=HYPERLINK("http://x")',
    "-",
    "+",
    "@",
]
NOT_FORMULAS = ["plain", "", "O'Brien", "x=1", "a-b", "\tx", "Ann; =1+1", "-2", "+3.5", "-1e3", ".5", "2026-01-05"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", NOT_FORMULAS)
def test_other_text_is_written_as_it_is(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    "number, written", [(-2, "-2"), (3, "3"), (Decimal("-1.500"), "-1.500"), (2.5, "2.5"), (0, "0")]
)
def test_numbers_are_written_as_numbers(number, written):
    assert csv_field(number) == written


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), True, None])
def test_values_that_are_not_finite_numbers_are_text(value):
    assert csv_field(value).startswith('"')


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_no_delimiter_choice_splits_a_cell_into_a_formula(delimiter):
    """Every text cell is quoted, so a spreadsheet that splits the file on ``;`` (its list separator in much of
    Europe) instead of ``,`` never finds a cell that starts a formula: ``Ann;=1+1`` stays in one cell."""
    line = ",".join(csv_field(v) for v in ["Ann;=1+1", "Bob,=2+2", "Cy =3", 'say "=4"', -2]) + "\r\n"
    cells = next(csv.reader(io.StringIO(line), delimiter=delimiter))
    assert not any(cell.lstrip().startswith(("=", "+", "@")) for cell in cells)
    if delimiter == ",":
        assert cells == ["Ann;=1+1", "Bob,=2+2", "Cy =3", 'say "=4"', "-2"]


@pytest.mark.parametrize("name", ["recall-İ.csv", "recall-ŁÓDŹ-ß.csv", 'a"b;c\\d.csv', "報告.csv", "plain.csv"])
def test_any_file_name_gives_a_latin_1_header_with_the_exact_name(name):
    header = content_disposition(name)
    header.encode("latin-1")  # what HTTP headers carry
    assert header.startswith('attachment; filename="')
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name


def test_a_recall_of_a_lot_named_in_any_script_downloads_with_numbers_as_numbers(core, login):
    core.lot(core.supply, "İ-1", 5, expires_in_days=30)
    client = core.client(first="=2+3", last="Ada", consents=[KEY])
    treatment = core.booked(client, KEY)
    record(
        treatment,
        details={"product": core.supply.id, "amount": "2"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    manager = login("manager")
    response = manager.get("/admin/recall/csv?lot=İ-1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1]) == "recall-İ-1.csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1][1] == "'=2+3 Ada" and rows[1][-1] == "2"
    day = treatment.scheduled_at.date().isoformat()
    report = manager.get(f"/admin/reports/treatments-per-modality.csv?date_from={day}&date_to={day}")
    assert report.get_data(as_text=True).splitlines()[1] == f'"{day[:7]}","Test modality",1,1'
