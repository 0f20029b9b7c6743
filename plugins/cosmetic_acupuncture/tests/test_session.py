"""A cosmetic acupuncture session through the pages: the form, needles taken from stock, the points kept in the
plugin's own table, the reports built on them, aftercare; and what the form and screening refuse. The face and
body charts: each shape ticks a code of its tick-list, screening's pregnancy rules are drawn on the booked client's
chart, and the record and its printout draw the points needled."""

import re
from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment

KEY = "cosmetic_acupuncture"


def _record(ca, **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-face_points": ["ST2", "LI20", "EX-HN3"],
        "details-body_points": ["ST36", "LR3"],
        "details-facial_needle_product": ca.facial.id,
        "details-facial_needles": "6",
        "details-body_needle_product": ca.body.id,
        "details-body_needles": "4",
        "details-retention_minutes": "25",
        "details-pattern": "qi_deficiency",
        "details-tongue": "pale",
        "details-pulse": "thready",
        "details-concerns": ["fine_lines"],
        "details-bruising": "none",
        "notes": "",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def _point_uses():
    from clinicadmin_cosmetic_acupuncture.models import PointUse

    db.session.expire_all()
    return sorted(db.session.execute(db.select(PointUse.point, PointUse.region)).all())


def _stock():
    db.session.expire_all()
    return dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())


def test_a_session_is_recorded_with_its_points_and_needles(ca, login):
    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    treatment = ca.booked(ca.client(first="Ada", consents=[KEY]), KEY)
    http = login("practitioner")
    form = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert "ST2 Sibai" in form and "SP6 Sanyinjiao" in form and "Retention (minutes)" in form
    response = http.post(f"/admin/desk/{treatment.id}/record", data=_record(ca))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _stock() == {"F1": 94, "B1": 96}
    assert _point_uses() == [("EX-HN3", "face"), ("LI20", "face"), ("LR3", "body"), ("ST2", "face"), ("ST36", "body")]
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "ST2 Sibai, LI20 Yingxiang, EX-HN3 Yintang" in page and "Qi deficiency" in page
    manager = login("manager")
    points = manager.get(f"/admin/reports/cosmetic-acupuncture-points?date_from={datetime.now(UTC).date()}").get_data(
        as_text=True
    )
    assert "<td>ST2</td><td>Sibai</td><td>face</td><td>1</td><td>1</td>" in points
    needles = manager.get("/admin/reports/cosmetic-acupuncture-needles").get_data(as_text=True)
    assert f"<td>{datetime.now(UTC).date():%Y-%m}</td><td>1</td><td>6</td><td>4</td>" in needles
    aftercare = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "Avoid heavy make-up for the rest of the day." in aftercare


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"details-face_points": [], "details-body_points": []}, "Choose the points needled."),
        ({"details-facial_needles": "2"}, "3 points were needled, so at least 3 needles were used."),
        ({"details-facial_needle_product": "", "details-facial_needles": ""}, "Choose the facial needles used."),
        ({"details-body_needles": ""}, "Give the amount of body needles used."),
        ({"details-retention_minutes": "0"}, "Number must be between 1 and 90."),
        ({"details-face_points": ["ST2", "NOPE"]}, "is not a valid choice"),
    ],
)
def test_the_form_refuses_bad_details_and_writes_nothing(ca, login, bad, message):
    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    treatment = ca.booked(ca.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(ca, **bad))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _stock() == {"F1": 100, "B1": 100} and _point_uses() == []
    assert db.session.get(Treatment, treatment.id).status == "booked"


def test_a_point_forbidden_in_pregnancy_blocks_the_recording(ca, login):
    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    treatment = ca.booked(ca.client(history=[("pregnancy", 150)], consents=[KEY]), KEY)
    assert treatment.screening_status == "warnings"
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record",
        data=_record(
            ca, **{"details-body_points": ["SP6", "ST36"], "acknowledgement_note": "Second trimester; no SP6 planned"}
        ),
    )
    assert "SP6 Sanyinjiao must not be needled in pregnancy" in response.get_data(as_text=True)
    assert _stock() == {"F1": 100, "B1": 100} and _point_uses() == []
    # Without the forbidden point the acknowledged warning lets the session be recorded.
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record",
        data=_record(
            ca, **{"details-body_points": ["ST36", "LR3"], "acknowledgement_note": "Second trimester; gentle"}
        ),
    )
    assert response.status_code == 302
    assert [p for p, _ in _point_uses()] == ["EX-HN3", "LI20", "LR3", "ST2", "ST36"]


def test_the_points_report_counts_clients_per_point_by_practitioner_and_leaves_archived_sessions_out(ca, login):
    """The report reads the point uses alone: each carries its session's client and practitioner, and a session
    archived as entered in error leaves it."""
    import csv
    import io

    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    ada, bea = ca.client(first="Ada", consents=[KEY]), ca.client(first="Bea", consents=[KEY])
    practitioner, manager = login("practitioner"), login("manager")
    ca.certify("manager", KEY)
    sessions = []
    for client, who, http in (
        (ada, "practitioner", practitioner),
        (ada, "practitioner", practitioner),
        (bea, "manager", manager),
    ):
        treatment = ca.booked(client, KEY, practitioner=who)
        response = http.post(
            f"/admin/desk/{treatment.id}/record",
            data=_record(
                ca,
                **{
                    "details-face_points": ["ST2", "LI20", "EX-HN3"],
                    "details-body_points": [],
                    "details-body_needle_product": "",
                    "details-body_needles": "",
                    "acknowledgement_note": "second session today, as planned",
                },
            ),
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        sessions.append(treatment)

    def st2(**args):
        query = "&".join(f"{k}={v}" for k, v in {"date_from": datetime.now(UTC).date(), **args}.items())
        rows = csv.reader(
            io.StringIO(manager.get(f"/admin/reports/cosmetic-acupuncture-points.csv?{query}").get_data(as_text=True))
        )
        return next(([times, clients] for code, _name, _region, times, clients in rows if code == "ST2"), None)

    assert st2() == ["3", "2"]  # three sessions, two clients
    assert st2(practitioner_id=ca.staff["practitioner"].id) == ["2", "1"]
    assert st2(practitioner_id=ca.staff["manager"].id) == ["1", "1"]
    assert (
        manager.post(
            f"/admin/desk/{sessions[2].id}/archive", data={"reason": "entered for the wrong client"}
        ).status_code
        == 302
    )
    assert st2() == ["2", "1"]
    assert st2(practitioner_id=ca.staff["manager"].id) is None


FIGURE = re.compile(r'<figure class="diagram diagram-form" data-field="([^"]+)">(.*?)</figure>', re.S)
SHAPE = re.compile(r'<circle class="([^"]+)" data-code="([^"]+)"[^>]*><title>([^<]*)</title>')


def _figures(page):
    """{field name: [(classes, code, title)]} of the form's charts."""
    return {field: SHAPE.findall(body) for field, body in FIGURE.findall(page)}


def _boxes(page, name):
    return set(re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*type="checkbox"[^>]*value="([^"]+)"', page))


def test_the_charts_tick_the_form_s_point_codes_and_nothing_is_forbidden_for_a_healthy_client(ca, login):
    treatment = ca.booked(ca.client(consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    figures = _figures(page)
    assert set(figures) == {"details-face_points", "details-body_points"}
    for field, shapes in figures.items():
        codes = {code for _, code, _ in shapes}
        assert codes == _boxes(page, field), field  # every point drawn is a box of its list, and every box drawn
        assert not any("forbidden" in classes for classes, _, _ in shapes)
    assert ("diagram-shape diagram-point", "ST2", "ST2 Sibai") in figures["details-face_points"]
    # both sides of the face: a bilateral point twice, a midline point once
    assert [code for _, code, _ in figures["details-face_points"]].count("ST2") == 2
    assert [code for _, code, _ in figures["details-face_points"]].count("GV26") == 1
    assert "/static/diagrams.js" in page and "/static/diagrams.css" in page
    assert not re.search(r"<(svg|path|circle|figure)[^>]* style=", page)  # the CSP allows no inline style


def test_a_pregnant_client_s_chart_marks_the_points_pregnancy_forbids(ca, login):
    undated = ca.booked(ca.client(first="Early", history=[("pregnancy", None)], consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{undated.id}/record").get_data(as_text=True)
    body = {code: (classes, title) for classes, code, title in _figures(page)["details-body_points"]}
    assert "forbidden" in body["SP6"][0] and body["SP6"][1] == "SP6 Sanyinjiao: forbidden in pregnancy"
    assert "forbidden" in body["LI4"][0]
    # a pregnancy without a date counts as the first trimester: lumbosacral points too
    assert body["BL23"][1] == "BL23 Shenshu: forbidden in the first trimester of pregnancy"
    assert "forbidden" not in body["ST36"][0]
    assert "<li>SP6 Sanyinjiao: forbidden in pregnancy</li>" in page  # the legend says it in words

    later = ca.booked(ca.client(first="Later", history=[("pregnancy", 150)], consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{later.id}/record").get_data(as_text=True)
    body = {code: classes for classes, code, _ in _figures(page)["details-body_points"]}
    assert "forbidden" in body["SP6"] and "forbidden" not in body["BL23"]  # past the first trimester
    assert not any("forbidden" in classes for classes, _, _ in _figures(page)["details-face_points"])


def test_the_record_and_its_printout_draw_the_points_needled(ca, login):
    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    client = ca.client(first="Chart", consents=[KEY])
    treatment = ca.booked(client, KEY)
    http = login("practitioner")
    response = http.post(f"/admin/desk/{treatment.id}/record", data=_record(ca))
    assert response.status_code == 302, response.get_data(as_text=True)
    for page in (
        http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True),
        http.get(f"/admin/client-history/?id={client.id}").get_data(as_text=True),
    ):
        assert 'aria-label="Face points: ST2 Sibai, LI20 Yingxiang, EX-HN3 Yintang"' in page
        assert 'aria-label="Body points: ST36 Zusanli, LR3 Taichong"' in page
        chosen = set(re.findall(r'<circle class="[^"]*chosen[^"]*" data-code="([^"]+)"', page))
        assert chosen == {"ST2", "LI20", "EX-HN3", "ST36", "LR3"}
        assert '<text class="diagram-code"' in page and ">LI20</text>" in page
    # the front desk does not see clinical details, nor the chart
    desk = login("front_desk").get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "diagram-record" not in desk


def test_a_hostile_code_is_refused_by_the_form_and_drawn_nowhere(ca, login):
    ca.lot(ca.facial, "F1", 100)
    ca.lot(ca.body, "B1", 100)
    treatment = ca.booked(ca.client(consents=[KEY]), KEY)
    hostile = '"><script>alert(1)</script>'
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record(ca, **{"details-face_points": ["ST2", hostile]})
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "is not a valid choice" in page
    assert "<script>alert(1)</script>" not in page
    assert _point_uses() == []
    # the chart still shows what the practitioner ticked that is valid
    chosen = {code for classes, code, _ in _figures(page)["details-face_points"] if "chosen" in classes}
    assert chosen == {"ST2"}
