"""Every response carries the protective headers; scripts run only with this response's nonce (no 'unsafe-inline'
scripts), and every script tag the pages render carries it."""

import re

import pytest

PAGES = [
    "/login",
    "/admin/",
    "/admin/client/",
    "/admin/client/new/",
    "/admin/desk/book",
    "/admin/reports/",
    "/admin/nowhere",
]


@pytest.mark.parametrize("url", PAGES)
def test_each_page_sends_a_strict_policy_and_its_scripts_carry_the_nonce(core, login, url):
    http = login("manager") if url != "/login" else None
    response = http.get(url) if http else core.app.test_client().get(url)
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "form-action 'self'" in policy
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    for tag in re.findall(r"<script\b[^>]*>", response.get_data(as_text=True)):
        assert f'nonce="{nonce}"' in tag, tag


def test_the_nonce_changes_with_every_response(core, login):
    http = login("manager")
    nonces = {
        re.search(r"'nonce-([^']+)'", http.get("/admin/").headers["Content-Security-Policy"]).group(1) for _ in range(3)
    }
    assert len(nonces) == 3


def test_only_the_known_inline_handlers_are_allowed_by_hash(core):
    import base64
    import hashlib

    policy = core.app.test_client().get("/login").headers["Content-Security-Policy"]
    allowed = set(re.findall(r"'sha256-([^']+)'", policy))
    expected = {
        "javascript:void(0)",
        "return false;",
        "faForm.addInlineField(this, 'health_entries');",
        "return modelActions.execute('archive');",
        "return modelActions.execute('reset_two_factor');",
    }
    assert allowed == {base64.b64encode(hashlib.sha256(h.encode()).digest()).decode() for h in expected}
