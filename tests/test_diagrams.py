"""A modality's diagrams (``Modality.diagrams``, the ``diagram_marks`` hook) through the recording form: only the
codes its tick-list offers are drawn, screening's marks are drawn and escaped, a failing marks hook is named and the
form still records; and the value types refuse a drawing that could carry markup."""

import pytest
from fake_modality import KEY, FakeModality
from wtforms.validators import InputRequired

from clinicadmin.forms import CheckboxListField
from clinicadmin.plugin_api import Diagram, DiagramPoint, DiagramRegion, Modality, hookimpl

CHARTED = "charted"
FACE = "M20 10 L80 10 L80 60 L20 60 Z"


class Charted:
    """A modality whose form ticks areas on a chart; its marks hook raises once ``failing`` is set."""

    failing = False

    @hookimpl
    def register_modality(self):
        chart = Diagram(
            "areas",
            "Areas",
            "areas",
            (0, 0, 100, 120),
            shapes=(
                DiagramRegion("face", FACE, "Face"),
                DiagramPoint("neck", 50, 80, "Neck"),
                DiagramPoint("ghost", 1, 1),
            ),
            outline=("M10 5 L90 5 L90 115 L10 115 Z",),
        )
        return Modality(CHARTED, "Charted", consent_text="I agree.", diagrams=(chart,))

    @hookimpl
    def treatment_form_fields(self, modality):
        if modality == CHARTED:
            return {
                "areas": CheckboxListField(
                    "Areas", choices=[("face", "Face"), ("neck", "Neck")], validators=[InputRequired()]
                )
            }

    @hookimpl
    def diagram_marks(self, treatment):
        if treatment.modality != CHARTED:
            return None
        if Charted.failing:
            raise RuntimeError("no marks today")
        return {"neck": "not after a <b>peel</b>"}


@pytest.fixture
def charted():
    Charted.failing = False
    yield Charted
    Charted.failing = False


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("charted", Charted())]}]
)
def test_the_form_draws_the_offered_codes_with_screening_s_marks_and_names_a_failing_marks_hook(core, login, charted):
    core.certify("practitioner", CHARTED)
    http = login("practitioner")
    treatment = core.booked(core.client(consents=[CHARTED, KEY]), CHARTED)
    page = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert '<figure class="diagram diagram-form" data-field="details-areas">' in page
    assert f'<path class="diagram-shape diagram-region" data-code="face" d="{FACE}"><title>Face</title></path>' in page
    assert 'class="diagram-shape diagram-point forbidden" data-code="neck"' in page
    assert "Neck: not after a &lt;b&gt;peel&lt;/b&gt;" in page and "<b>peel</b>" not in page
    assert 'data-code="ghost"' not in page  # not a choice of the field: not drawn
    other = core.booked(core.client(first="Plain", consents=[KEY]), KEY)
    assert "<figure" not in http.get(f"/admin/desk/{other.id}/record").get_data(as_text=True)

    Charted.failing = True
    page = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert "The drawing cannot show what screening forbids (Charted failed)" in page
    assert 'class="diagram-shape diagram-point" data-code="neck"' in page  # drawn, without the failed hook's marks
    response = http.record(treatment, {"areas": ["face"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    shown = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert '<svg class="diagram-svg" viewBox="0 0 100 120" role="img" aria-label="Areas: Face">' in shown


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: DiagramRegion("x", 'M0 0"/><script>alert(1)</script>'), "is not SVG path data"),
        (lambda: DiagramRegion("x", "M0 0 L1 1 url(#a)"), "is not SVG path data"),
        (lambda: DiagramPoint("x", float("nan"), 1), "finite numbers"),
        (lambda: Diagram("d", "D", "f", (0, 0, 0, 10), ()), "viewbox"),
        (lambda: Diagram("d", "D", "f", (0, 0, 10, 10), (), outline=("<g>",)), "is not SVG path data"),
        (lambda: Diagram("d", "D", "not a field", (0, 0, 10, 10), ()), "field"),
        (lambda: Modality("m", "M", diagrams=(Diagram("d", "D", "f", (0, 0, 9, 9), ()),) * 2), "distinct"),
        (lambda: Modality("m", "M", diagrams=("d",)), "tuple of Diagram"),  # type: ignore[arg-type]
    ],
)
def test_a_drawing_that_could_carry_markup_or_is_malformed_is_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()
