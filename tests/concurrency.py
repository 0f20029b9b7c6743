"""Sending the same request several times at once, as a double click, a replaying proxy or two colleagues would."""

import threading

from clinicadmin.testing import StaffClient


def same_browser(http):
    """Another test client with ``http``'s cookies: the same logged-in session, usable from another thread."""
    twin = StaffClient.__new__(StaffClient)
    twin.app, twin.email, twin.http = http.app, http.email, http.app.test_client()
    for cookie in http.http._cookies.values():
        twin.http.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return twin


def all_at_once(http, url, data, times=20):
    """POST the same form (same session, CSRF token and one-time token) ``times`` times at once, each from its own
    thread; returns the responses in order."""
    data = {"csrf_token": http.token(), **data}
    clients = [same_browser(http) for _ in range(times)]
    start, responses = threading.Barrier(times), [None] * times

    def send(i):
        start.wait()
        responses[i] = clients[i].post(url, data=dict(data))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return responses
