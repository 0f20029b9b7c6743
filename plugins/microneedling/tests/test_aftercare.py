"""The aftercare sheet follows the clinic's settings: the days without retinoids and acids are the clinic's choice."""

KEY = "microneedling"


def test_the_printed_aftercare_shows_the_clinics_days_without_actives(mn, login):
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    http = login("practitioner")
    sheet = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "No retinoids, acids (AHA, BHA) or vitamin C serums on the treated skin for 7 days." in sheet
    response = login("manager").post("/admin/settings/", data={"microneedling.no_actives_days": "14"})
    assert response.status_code == 302
    sheet = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "for 14 days." in sheet and "for 7 days." not in sheet


def test_a_days_setting_out_of_bounds_is_refused_and_the_sheet_is_unchanged(mn, login):
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    page = login("manager").post("/admin/settings/", data={"microneedling.no_actives_days": "0"})
    assert "Nothing was saved" in page.get_data(as_text=True)
    sheet = login("practitioner").get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "for 7 days." in sheet
