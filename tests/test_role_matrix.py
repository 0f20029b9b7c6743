"""Every role against every model view and action: list, create, delete and export. The table below is the
specification; a view added without a line here fails the test."""

import pytest
from flask_admin.contrib.sqla import ModelView

ALL = {"admin", "manager", "practitioner", "front_desk", "stock_clerk"}
CLINICAL = {"admin", "manager", "practitioner"}
STOCK = {"admin", "manager", "stock_clerk"}
MANAGERS = {"admin", "manager"}

# endpoint: (roles that list it, roles that create in it); nobody deletes or exports anywhere.
MATRIX = {
    "client": (CLINICAL, CLINICAL),
    "client_desk": ({"front_desk"}, {"front_desk"}),
    "client_archived": (MANAGERS, set()),
    "health_entry": (CLINICAL, set()),
    "consent": (CLINICAL | {"front_desk"}, CLINICAL | {"front_desk"}),
    "photo_consent": (CLINICAL | {"front_desk"}, CLINICAL | {"front_desk"}),
    "treatment": (CLINICAL | {"front_desk"}, set()),
    "treatment_archived": (MANAGERS, set()),
    "course": (CLINICAL | {"front_desk"}, CLINICAL),
    "product": (STOCK, STOCK),
    "stocklot": (STOCK, set()),
    "ledger": (STOCK, set()),
    "supplier": (STOCK, STOCK),
    "staff": (MANAGERS, MANAGERS),
    "certification": (MANAGERS, MANAGERS),
    "location": (MANAGERS, MANAGERS),
    "resource": (MANAGERS, MANAGERS),
    "working_hours": (MANAGERS, MANAGERS),
    "time_off": (MANAGERS, MANAGERS),
    "role": (MANAGERS, set()),
    "audit": (MANAGERS, set()),
}


def test_every_model_view_is_in_the_matrix(core):
    views = {v.endpoint for v in core.app.extensions["admin"][0]._views if isinstance(v, ModelView)}
    assert views == set(MATRIX)


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_may_do_exactly_what_the_matrix_says(core, login, role):
    core.client(first="Secret", last="Person", consents=["testmod"])
    http = login(role)
    for endpoint, (listers, creators) in MATRIX.items():
        base = f"/admin/{endpoint}/"
        listed = http.get(base)
        assert listed.status_code == (200 if role in listers else 403), (role, base)
        created = http.get(base + "new/")
        assert created.status_code == (200 if role in creators else 403), (role, base + "new/")
        deleted = http.post(base + "delete/", data={"id": "1"})
        assert deleted.status_code == 403, (role, base + "delete/")
        exported = http.get(base + "export/csv/")
        assert exported.status_code in (302, 403, 404) and exported.mimetype != "text/csv", (role, base)
