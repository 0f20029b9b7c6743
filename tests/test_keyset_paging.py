"""Long lists page by their sort key: "Next" and "Previous" walk every row exactly once, in order, ties included,
without OFFSET (so a page deep in a chain's schedule costs what the first page costs)."""

import html
import re
from datetime import UTC, datetime, timedelta

from fake_modality import KEY

from clinicadmin.extensions import db
from clinicadmin.models import Client, Treatment
from clinicadmin.testing import sql_statements

LINK = re.compile(r'<a class="page-link" rel="(first|prev|next)" href="([^"]+)"')


def _page(http, url):
    response = http.get(url)
    assert response.status_code == 200, url
    text = response.get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', text)]
    links = {rel: html.unescape(href) for rel, href in LINK.findall(text)}
    return ids, links, text


def _walk(http, url, rel):
    pages = []
    while url:
        ids, links, _ = _page(http, url)
        pages.append(ids)
        url = links.get(rel)
        assert len(pages) < 20, "the pager does not end"
    return pages


def _schedule(core, how_many):
    """``how_many`` treatments, three at each minute (ties on the sort column): three clients, each with one of three
    practitioners, a minute long (nobody booked twice at once)."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    clients = [core.client(first=f"Tie{n}", consents=[KEY]) for n in range(3)]
    for role in ("manager", "admin"):
        core.certify(role, KEY)
    for i in range(how_many):
        core.booked(
            clients[i % 3],
            KEY,
            practitioner=("practitioner", "manager", "admin")[i % 3],
            when=start + timedelta(minutes=i // 3),
            minutes=1,
        )
    return (
        db.session.execute(db.select(Treatment.id).order_by(Treatment.scheduled_at.desc(), Treatment.id.desc()))
        .scalars()
        .all()
    )


def test_next_walks_the_schedule_once_in_order_and_previous_walks_back(core, login):
    expected = _schedule(core, 47)
    manager = login("manager")
    forward = _walk(manager, "/admin/treatment/", "next")
    assert [len(p) for p in forward] == [20, 20, 7]
    assert sum(forward, []) == expected
    _, links, _ = _page(manager, "/admin/treatment/")
    assert "prev" not in links and "first" not in links, "the first page offers no way back"

    last_url = None
    url = "/admin/treatment/"
    while url:
        last_url, url = url, _page(manager, url)[1].get("next")
    backward = _walk(manager, _page(manager, last_url)[1]["prev"], "prev")
    assert sum(reversed(backward), []) == expected[:40]
    assert _page(manager, _page(manager, last_url)[1]["first"])[0] == expected[:20]


def test_paging_keeps_the_sort_and_filters_and_sorting_starts_again_from_the_top(core, login):
    expected = _schedule(core, 25)
    manager = login("manager")
    oldest_first = _walk(manager, "/admin/treatment/?sort=0", "next")
    assert sum(oldest_first, []) == list(reversed(expected))

    _, links, text = _page(manager, "/admin/treatment/")
    second_page, _, text = _page(manager, links["next"])
    assert second_page == expected[20:]
    assert 'name="after"' not in text, "the search and filter forms carry the cursor"
    assert not re.search(r'href="[^"]*sort=[^"]*after=', text), "a sort link carries the cursor"

    filtered = _walk(manager, f"/admin/treatment/?flt0_0={KEY}", "next")
    assert sum(filtered, []) == expected


def test_clients_page_by_name_with_ties_on_the_name(core, login):
    for i in range(23):
        core.client(first=f"Ann{i % 2}", last="Same" if i < 15 else f"Z{i:02d}")
    expected = (
        db.session.execute(
            db.select(Client.id)
            .where(Client.archived_at.is_(None))
            .order_by(Client.last_name, Client.first_name, Client.id)
        )
        .scalars()
        .all()
    )
    pages = _walk(login("manager"), "/admin/client/", "next")
    assert sum(pages, []) == expected and len(expected) == 23


def test_a_spoiled_page_link_shows_the_first_page_with_a_message(core, login):
    expected = _schedule(core, 5)
    manager = login("manager")
    for spoiled in ("garbage!!", "WyJ4Il0", "bnVsbA", "WzEsMiwzXQ"):
        ids, _, text = _page(manager, f"/admin/treatment/?after={spoiled}")
        assert ids == expected, spoiled
        assert "no longer fits this list" in text


def test_a_later_page_reads_a_range_of_the_index_not_an_offset(core, login):
    _schedule(core, 45)
    manager = login("manager")
    _, links, _ = _page(manager, "/admin/treatment/")
    _, links, _ = _page(manager, links["next"])
    with sql_statements() as statements:
        ids, _, _ = _page(manager, links["next"])
    assert len(ids) == 5
    listing = [(s, p) for s, p in statements if "FROM treatment" in s and "ORDER BY" in s]
    assert len(listing) == 1
    statement, parameters = listing[0]
    assert "treatment.scheduled_at <=" in statement or "treatment.scheduled_at <= " in statement, statement
    # SQLite's dialect always writes "LIMIT ? OFFSET ?": its offset is then the last parameter, and it must be 0.
    assert "OFFSET" not in statement or list(parameters)[-1] == 0, (statement, parameters)


def test_an_old_numbered_page_link_still_works(core, login):
    expected = _schedule(core, 25)
    ids, links, _ = _page(login("manager"), "/admin/treatment/?page=1")
    assert ids == expected[20:]
    assert "prev" in links and "next" not in links
