"""The privacy team's desk: assignment, the queue's search and filters, the dashboard's
figures and the register of requests (CSV), page and API, with the roles of each."""

import csv
import io
import random
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from conftest import csrf_token
from fixtures_staff import PASSWORD, bearer, english, login, new_case, staff_email, staff_instance
from sqlalchemy import select

import workflows
from dsr import audit, caseload, dashboard, staff
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest
from dsr.models.types import utcnow

LIST = "/api/v1/requests"
PARIS = ZoneInfo("Europe/Paris")
REF = re.compile(r">(DSR-\d{4}-\d{6})</a>")
HANDLER, OTHER, VIEWER = staff_email("handler"), "other-handler@staff.example", "viewer@x.example"


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=staff_instance())


@pytest.fixture
def accounts(app, make_staff, staff_tokens):
    """Page accounts (a handler, another handler, a viewer, an inactive admin) and tokens."""
    make_staff("handler")
    make_staff("handler", OTHER)
    make_staff("viewer", VIEWER)
    make_staff("admin", "gone@staff.example", active=False)
    return staff_tokens


def signed_in(app, email: str):
    client = english(app.test_client())
    assert login(client, email, PASSWORD).status_code == 303
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def case(app, status="open", *, name="Alice Martin", assignee=None, restricted=False, **kw) -> str:
    """A request through the real operations (`new_case`), then its name and assignee."""
    ref = new_case(app, status, **kw)
    with app.app_context():
        req = caseload.by_ref(ref)
        req.name = name
        req.assignee = staff.find_user(assignee) if assignee else None
        if restricted:
            req.restricted_at = utcnow()
        db.session.commit()
    return ref


# --- the queue: search, filters, counts ------------------------------------------------------


@pytest.fixture
def desk(app, accounts) -> dict[str, str]:
    """Five cases; `b` is the API handler's, `a` the page handler's."""
    return {
        "a": case(app, "open", due_in_days=-3, assignee=HANDLER),
        "b": case(
            app,
            "processing",
            type_="erasure",
            email="zoe@example.net",
            name="Chloé Dupont",
            due_in_days=2,
            assignee="api-handler@staff.example",
        ),
        "c": case(
            app, "review", email="camille@example.com", name="Camille Durand", due_in_days=20
        ),
        "d": case(app, "completed", restricted=True),
        "e": case(
            app,
            "awaiting_subject",
            type_="erasure",
            email="eve@example.org",
            name="Eve Moreau",
            due_in_days=1,
        ),
    }


def page_refs(client, query: str) -> list[str]:
    response = client.get("/staff/" + query)
    assert response.status_code == 200, text(response)[:300]
    body = text(response)
    return (
        REF.findall(body[body.find("<tbody>") : body.find("</tbody>")]) if "<tbody>" in body else []
    )


def api_refs(app, token: str, query: str) -> list[str]:
    response = app.test_client().get(LIST + query, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return [item["ref"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "aebc"),  # not closed, the earliest deadline first
        ("?q=alice", "a"),
        ("?q=ALICE&status=all", "ad"),
        ("?q=dupont", "b"),  # the name, whatever the case
        ("?q=example.net", "b"),  # the email
        ("?q=%25", ""),  # a LIKE wildcard is searched as itself
        ("?q=_", ""),
        ("?status=review", "c"),
        ("?type=erasure", "eb"),
        ("?overdue=true", "a"),
        ("?overdue=false", "ebc"),
        ("?due=week", "b"),  # 2 days left; not the overdue one, not the paused one
        ("?assignee=none", "ec"),
        ("?assignee=" + HANDLER.upper(), "a"),
        ("?restricted=true", "d"),  # the existing filter still works, closed cases included
        ("?type=erasure&assignee=none", "e"),
    ],
)
def test_queue_search_and_filters_page_and_api(app, desk, accounts, query, expected):
    wanted = [desk[key] for key in expected]
    assert page_refs(signed_in(app, VIEWER), query) == wanted
    assert api_refs(app, accounts["viewer"], query) == wanted


def test_queue_search_by_reference(app, desk, accounts):
    ref = desk["c"]
    assert page_refs(signed_in(app, VIEWER), f"?q={ref.lower()}") == [ref]
    assert api_refs(app, accounts["viewer"], f"?q={ref[-6:]}") == [ref]


def test_mine_is_the_asking_account(app, desk, accounts):
    assert page_refs(signed_in(app, HANDLER), "?assignee=mine") == [desk["a"]]
    assert page_refs(signed_in(app, OTHER), "?assignee=mine") == []
    assert api_refs(app, accounts["handler"], "?assignee=mine") == [desk["b"]]


def test_queue_shows_the_assignee_and_counts_per_status(app, desk):
    body = text(signed_in(app, VIEWER).get("/staff/?type=access"))
    row = body[body.find(desk["a"]) :]
    assert HANDLER in row[: row.find("</tr>")]
    counts = dict(re.findall(r">([A-Za-z ()]+): (\d+)</", body))
    assert counts["Open"] == "1" and counts["In review"] == "1" and counts["Completed"] == "1"
    assert counts["Processing"] == "0"  # the erasure is not an access request
    assert counts["Awaiting the subject"] == "0" and counts["Rejected"] == "0"
    assert 'href="/staff/?type=access&amp;status=completed"' in body


def test_status_counts_follow_the_filters(app, desk):
    with app.app_context():
        filters = caseload.parse_filters({"type": "erasure"})
        counts = caseload.status_counts(filters)
        every = caseload.status_counts(caseload.parse_filters({"q": "example"}))
    assert {k: v for k, v in counts.items() if v} == {"processing": 1, "awaiting_subject": 1}
    assert sum(every.values()) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?due=month", "due"),
        ("?q=" + "x" * 255, "q"),
    ],
)
def test_bad_search_and_filters_say_what_to_fix(app, accounts, query, field):
    """(An assignee no account has is no fault: it matches no case, as the API documents.)"""
    response = app.test_client().get(LIST + query, headers=bearer(accounts["viewer"]))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert signed_in(app, VIEWER).get("/staff/" + query).status_code == 400


# --- assignment ------------------------------------------------------------------------------


def assign_api(app, token: str, ref: str, body):
    return app.test_client().post(f"{LIST}/{ref}/assign", json=body, headers=bearer(token))


def assigned_events(app, ref: str) -> list[dict]:
    with app.app_context():
        req = caseload.by_ref(ref)
        return [e.data for e in audit.events_for(req.id) if e.kind == "request.assigned"]


def test_api_assigns_and_unassigns_with_audit_events(app, accounts):
    ref = case(app)
    response = assign_api(app, accounts["handler"], ref, {"email": OTHER.upper()})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assignee"] == OTHER
    assert assign_api(app, accounts["handler"], ref, {"email": OTHER}).status_code == 200
    read = app.test_client().get(f"{LIST}/{ref}", headers=bearer(accounts["viewer"]))
    assert read.get_json()["assignee"] == OTHER
    response = assign_api(app, accounts["admin"], ref, {"email": None})
    assert response.get_json()["assignee"] is None
    assert assigned_events(app, ref) == [{"from": None, "to": OTHER}, {"from": OTHER, "to": None}]
    with app.app_context():
        assert audit.verify_chain().ok


@pytest.mark.parametrize(
    "body",
    [
        {"email": VIEWER},  # a viewer decides nothing
        {"email": "gone@staff.example"},  # deactivated
        {"email": "stranger@example.org"},
        {"email": ""},
        {"email": 42},
        {},
    ],
)
def test_api_assigns_only_to_active_handlers_and_admins(app, accounts, body):
    ref = case(app)
    response = assign_api(app, accounts["handler"], ref, body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == ["email"]
    assert assigned_events(app, ref) == []


def test_api_assignment_needs_a_handler(app, accounts):
    ref = case(app)
    assert assign_api(app, accounts["viewer"], ref, {"email": HANDLER}).status_code == 403
    assert assign_api(app, "dsr_nothing", ref, {"email": HANDLER}).status_code == 401
    assert (
        assign_api(app, accounts["handler"], "DSR-2020-999999", {"email": HANDLER}).status_code
        == 404
    )
    assert assigned_events(app, ref) == []


def post_assign(client, ref: str, email: str):
    token = csrf_token(client, f"/staff/requests/{ref}")
    data = {"assign-csrf_token": token, "assign-assignee": email}
    return client.post(f"/staff/requests/{ref}/assign", data=data)


def test_page_assigns_a_case(app, accounts):
    ref = case(app)
    client = signed_in(app, HANDLER)
    page = text(client.get(f"/staff/requests/{ref}"))
    assert "Assigned to nobody yet." in page
    assert f'<option value="{OTHER}">' in page and VIEWER not in page
    assert "gone@staff.example" not in page  # deactivated
    response = post_assign(client, ref, OTHER)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/requests/{ref}#assignment")
    page = text(client.get(f"/staff/requests/{ref}"))
    assert f"The case is assigned to {OTHER}." in page
    assert f"Assigned to {OTHER}." in page
    assert assigned_events(app, ref) == [{"from": None, "to": OTHER}]
    assert post_assign(client, ref, "").status_code == 303
    assert assigned_events(app, ref)[-1] == {"from": OTHER, "to": None}


def test_page_refuses_a_viewer_as_assignee(app, accounts):
    ref = case(app)
    client = signed_in(app, HANDLER)
    response = post_assign(client, ref, VIEWER)
    assert response.status_code == 303
    page = text(client.get(f"/staff/requests/{ref}"))
    assert "Choose an active handler or administrator, or nobody." in page
    assert assigned_events(app, ref) == []


def test_viewer_reads_but_cannot_assign(app, accounts):
    ref = case(app, assignee=HANDLER)
    client = signed_in(app, VIEWER)
    page = text(client.get(f"/staff/requests/{ref}"))
    assert f"Assigned to {HANDLER}." in page
    assert 'name="assign-assignee"' not in page
    response = client.post(
        f"/staff/requests/{ref}/assign",
        data={"csrf_token": csrf_token(client, "/staff/"), "assign-assignee": OTHER},
    )
    assert response.status_code == 403
    assert assigned_events(app, ref) == []
    for url in ("/staff/", "/staff/dashboard", "/staff/register.csv"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", ["/staff/dashboard", "/staff/register.csv"])
def test_dashboard_and_register_need_a_sign_in(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


# --- the dashboard ---------------------------------------------------------------------------

OPEN = ("unverified", "open", "processing", "review", "awaiting_subject")
ANSWERED = ("completed", "rejected")


def seed_caseload(app, now: datetime) -> list[dict]:
    """About 150 requests over 15 months, as rows (bypassing the operations, dates chosen)."""
    rng = random.Random(20261127)
    names = workflows.names()
    rows = []
    for n in range(150):
        received = now - timedelta(days=rng.randint(0, 450), minutes=rng.randint(0, 1440))
        received = received.replace(microsecond=0)
        row = {
            "type": rng.choice(names),
            "received_at": received,
            "due_at": received + timedelta(days=30),
            "extended_due_at": received + timedelta(days=90) if n % 9 == 0 else None,
            "closed_at": None,
        }
        age = (now - received).days
        status = (
            rng.choice(OPEN)
            if age < 60 and n % 3
            else rng.choice(ANSWERED * 3 + ("withdrawn", "expired"))
        )
        if status not in OPEN:
            row["closed_at"] = min(now, received + timedelta(days=rng.randint(1, 45), hours=3))
        rows.append({**row, "status": status})
    # the first minutes of this month, local time: the previous month in UTC
    first = datetime.combine(now.astimezone(PARIS).date().replace(day=1), time(0, 20), PARIS)
    if first.astimezone(UTC) < now:
        rows.append(
            {"type": "access", "status": "completed", "received_at": first.astimezone(UTC),
             "due_at": first.astimezone(UTC) + timedelta(days=30), "extended_due_at": None,
             "closed_at": first.astimezone(UTC) + timedelta(minutes=5)}
        )  # fmt: skip
    with app.app_context():
        for n, row in enumerate(rows):
            db.session.add(
                DataRequest(
                    ref=f"DSR-2020-{n + 1:06d}",
                    email=f"person{n}@example.org",
                    name=f"Person {n}",
                    identifiers={},
                    details={},
                    language="fr",
                    **row,
                )
            )
        db.session.commit()
    return rows


def month_key(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(PARIS)
    return local.year, local.month


def expected_figures(rows: list[dict], now: datetime) -> dict:
    """The dashboard's figures, computed here from the seeded rows."""
    today = now.astimezone(PARIS).date()
    months, year, month = [], today.year, today.month
    for _ in range(12):
        months.insert(0, (year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    answered = [r for r in rows if r["status"] in ANSWERED and month_key(r["closed_at"]) in months]
    on_time = [r for r in answered if r["closed_at"] <= (r["extended_due_at"] or r["due_at"])]
    medians = {}
    for name in workflows.names():
        days = [
            (r["closed_at"] - r["received_at"]) // timedelta(days=1)
            for r in answered
            if r["type"] == name
        ]
        medians[name] = statistics.median(days) if days else None
    running = [r for r in rows if r["status"] in ("unverified", "open", "processing", "review")]
    overdue = [
        r for r in running if (r["extended_due_at"] or r["due_at"]).astimezone(PARIS).date() < today
    ]
    return {
        "months": [
            (
                sum(month_key(r["received_at"]) == m for r in rows),
                sum(r["status"] in ANSWERED and month_key(r["closed_at"]) == m for r in rows),
            )
            for m in months
        ],
        "answered": len(answered),
        "on_time": len(on_time),
        "medians": medians,
        "open": Counter((r["type"], r["status"]) for r in rows if r["status"] in OPEN),
        "overdue": len(overdue),
    }  # fmt: skip


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr":
            self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_dashboard_figures_on_a_seeded_caseload(app, accounts):
    now = utcnow()
    rows = seed_caseload(app, now)
    expected = expected_figures(rows, now)
    with app.app_context():
        figures = dashboard.figures(now)
    assert [(m.received, m.answered) for m in figures.months] == expected["months"]
    assert sum(r for r, _ in expected["months"]) > 100 and expected["answered"] > 20
    assert (figures.answered, figures.answered_on_time) == (
        expected["answered"],
        expected["on_time"],
    )
    assert 0 < expected["on_time"] < expected["answered"]
    assert figures.median_days == expected["medians"]
    assert figures.overdue == expected["overdue"] > 0
    got = Counter({(t, s): n for t, row in figures.open_cases.items() for s, n in row.items() if n})
    assert got == expected["open"]

    page = signed_in(app, VIEWER).get("/staff/dashboard")
    assert page.status_code == 200
    body = text(page)
    assert f"({expected['on_time']} of {expected['answered']})" in body
    assert re.search(rf'overdue=true">{expected["overdue"]}</a>', body)
    parser = Tables()
    parser.feed(body)
    open_table, months_table = parser.tables
    header = open_table[0]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        titles = {str(workflows.get(n).title): n for n in workflows.names()}
    for row in open_table[1:]:
        name = titles[row[0]]
        total = sum(n for (t, _), n in expected["open"].items() if t == name)
        assert int(row[header.index("Total")]) == total
        median = expected["medians"][name]
        shown = row[header.index("Median days to answer")]
        assert shown == ("—" if median is None else f"{median:g}")
    assert [(int(r), int(a)) for _, r, a in months_table[1:]] == expected["months"]


def test_dashboard_chart_is_an_accessible_inline_svg(app, accounts):
    seed_caseload(app, utcnow())
    body = text(signed_in(app, VIEWER).get("/staff/dashboard"))
    svg = body[body.find("<svg") : body.find("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Requests received and answered, month by month</title>' in svg
    assert svg.count('fill="#0b4fa3"/>') == 13  # 12 months of received bars, and the legend
    assert "<script" not in body and "http://" not in svg.replace("http://www.w3.org", "")
    description = re.search(r'<desc id="chart-desc">(.*?)</desc>', svg).group(1)
    assert description.count("received") == 12


def test_dashboard_with_nothing_yet(app, accounts):
    body = text(signed_in(app, VIEWER).get("/staff/dashboard"))
    assert "Nothing answered yet" in body


def test_median_of_a_histogram_is_the_statistics_median():
    rng = random.Random(3)
    for _ in range(200):
        values = [rng.randint(0, 40) for _ in range(rng.randint(1, 30))]
        assert dashboard.histogram_median(Counter(values)) == statistics.median(values)
    assert dashboard.histogram_median(Counter()) is None


# --- the register of requests ----------------------------------------------------------------


def test_register_csv_lists_every_request_without_personal_data(app, accounts):
    on_time = case(app, "completed", name="=cmd|' /C calc'!A0", email="mallory@example.org")
    late = case(app, "rejected", due_in_days=-10)
    overdue = case(app, "open", due_in_days=-2)
    running = case(app, "processing", due_in_days=5)
    withdrawn = case(app, "withdrawn")
    with app.app_context():
        req = caseload.by_ref(late)
        req.closed_at = req.due_at + timedelta(days=3)
        extended = caseload.by_ref(running)
        extended.extended_due_at = extended.due_at + timedelta(days=60)
        db.session.commit()
        day = {
            ref: {
                field: moment.astimezone(PARIS).date().isoformat() if moment else ""
                for field, moment in (
                    ("received", req.received_at),
                    ("due", req.due_at),
                    ("extended", req.extended_due_at),
                    ("closed", req.closed_at),
                )
            }
            for ref, req in ((ref, caseload.by_ref(ref)) for ref in (on_time, late, running))
        }

    response = signed_in(app, VIEWER).get("/staff/register.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data(as_text=True)
    assert raw.startswith("\ufeff")
    for personal in ("mallory", "Alice", "Martin", "cmd", "alice@example.org", "+336"):
        assert personal not in raw
    table = list(csv.reader(io.StringIO(raw[1:])))
    assert table[0] == [
        "Reference", "Right", "Received", "Due", "Extended to", "Answered", "Outcome",
        "Answered on time",
    ]  # fmt: skip
    by_ref = {row[0]: row for row in table[1:]}
    assert [row[0] for row in table[1:]] == [on_time, late, overdue, running, withdrawn]
    assert by_ref[on_time][1:] == [
        "Access my data",
        day[on_time]["received"],
        day[on_time]["due"],
        "",
        day[on_time]["closed"],
        "Completed",
        "yes",
    ]
    assert by_ref[late][5:] == [day[late]["closed"], "Rejected", "no"]
    assert by_ref[overdue][5:] == ["", "Open", "no"]
    assert by_ref[running][3:] == [
        day[running]["due"],
        day[running]["extended"],
        "",
        "Processing",
        "",
    ]
    assert by_ref[withdrawn][5:] == ["", "Withdrawn", ""]
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.request_id.is_(None)))
        assert "register.exported" in list(kinds)


def test_register_cells_are_neutralised(app, accounts, monkeypatch):
    """A cell a spreadsheet would run (here a status label) gets the export's leading quote."""
    from dsr.web import staff_text

    case(app, "open")
    monkeypatch.setitem(staff_text.STATUS_TITLES, "open", "=HYPERLINK(1)")
    raw = text(signed_in(app, VIEWER).get("/staff/register.csv"))
    assert list(csv.reader(io.StringIO(raw[1:])))[1][6] == "'=HYPERLINK(1)"
