"""Two companies, one app: company B's users never reach company A's objects.

Every route a customer may call (each endpoint whose roles in the authorization
table include "customer", and every portal page) has a table of cases here.
Each case calls the route as company B's administrator (the strongest customer
login) on company A's objects: an order, its site and circuit, its photo, its
comment, the company and its users. A route that names an object answers 404
with exactly the body a missing id gets; a list or a page shows nothing of A's;
a form naming A's objects is refused word for word like one naming missing ids.
Each case also calls the route as A's own user (the control): A's object is
there and reachable, so B's 404 is the isolation and not a broken fixture.

A route a customer may call without a case fails
:func:`test_every_customer_route_has_a_case`: a new endpoint needs its case.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.models import User
from tests.application.test_authorization_matrix import DECLARED, SESSION_BLUEPRINTS, _comparable
from tests.factories import image_bytes

MISSING = 999999
SKILLS = ["adsl", "lan", "iptv", "enterprise_circuit", "enterprise_app"]
A_NAME, A_DISTRICT = "甲方银行QZ", "滨湖新区"
A_DESCRIPTION, A_COMMENT = "甲方机密故障QZ", "甲方留言QZ"
THEM, US = "b-admin", "a-user-qz"


def customer_routes(app) -> dict[tuple[str, str], str]:
    """(endpoint, method) -> rule of every route a customer may call, and every portal page."""
    found = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            allowed = DECLARED.get((rule.endpoint, method))
            customer = isinstance(allowed, frozenset) and "customer" in allowed
            if customer or rule.rule.startswith("/portal"):
                found[(rule.endpoint, method)] = rule.rule
    return found


# ---------------------------------------------------------------- the two companies


@pytest.fixture()
def two(app, world, db):
    """Company A (a bank: a completed order with a photo and a comment, an open order,
    a user) and company B (a hospital whose administrator is the one asking)."""
    from workorders import comments, photos, service

    root_id = world.user("root", "admin")
    tech_id = world.technician("tech", SKILLS)
    a = world.enterprise(A_NAME, tier="group", district=A_DISTRICT)
    b = world.enterprise("乙方医院", tier="local_a", district="瑶海区")
    a_user = world.user(US, "customer", customer_id=a["customer_id"])
    b_admin = world.user(THEM, "customer", customer_id=b["customer_id"])
    db.get(User, b_admin).company_admin = True
    root = Actor(user_id=root_id, username="root", role="admin", origin="test")
    tech_user = db.scalar(select(User.id).where(User.username == "tech"))
    tech = Actor(user_id=tech_user, username="tech", role="technician", origin="test", technician_id=tech_id)
    base = {
        "kind": "repair",
        "product": "lan",
        "priority": "P2",
        "source": "hotline",
        "description": A_DESCRIPTION,
    }
    order = service.create_order(db, root, base | {"customer_id": a["customer_id"], "site_id": a["site_id"]})
    for target in ("assigned", "en_route", "on_site"):
        service.transition(db, root, order, target, technician_id=tech_id)
    from standards import checklist_for

    item = checklist_for(order.kind, order.product)[0].id
    photo, _new = photos.add_photo(
        db, tech, order, item, image_bytes(), "image/jpeg", app.config["PHOTO_DIR"]
    )
    service.record_override(db, root, order, "isolation test: no checklist")
    service.transition(db, root, order, "completed")
    us = Actor(user_id=a_user, username=US, role="customer", origin="test", customer_id=a["customer_id"])
    comments.add_comment(db, us, order, A_COMMENT)
    open_order = service.create_order(
        db, root, base | {"customer_id": a["customer_id"], "site_id": a["site_id"]}
    )
    db.commit()
    return {
        "a": a,
        "b": b,
        "order_id": order.id,
        "open_order_id": open_order.id,
        "photo_id": photo.public_id,
        "a_user_id": a_user,
        # Strings only A's objects hold: none may show in anything B's user gets.
        "markers": [
            A_NAME,
            f"合肥市{A_DISTRICT}",  # the site's address
            A_DESCRIPTION,
            A_COMMENT,
            US,
            order.code,
            open_order.code,
            photo.public_id,
        ],
    }


# ---------------------------------------------------------------- requests


def _send(app, username: str, method: str, path: str, session_auth: bool, json=None, form=None, query=None):
    """One request as ``username``: a bearer token for the APIs; for pages the
    session cookie and the page's CSRF token."""
    from core.auth import issue_tokens, start_web_session, token_ttls

    client = app.test_client()
    headers = {}
    with app.test_request_context():
        session = app.extensions["db_sessionmaker"]()
        user = session.scalar(select(User).where(User.username == username))
        sid = start_web_session(session, user) if session_auth else None
        token = None if session_auth else issue_tokens(session, user, *token_ttls())["access_token"]
        session.commit()
        user_id = user.id
        session.close()
    if session_auth:
        with client.session_transaction() as web_session:
            web_session["user_id"], web_session["sid"] = user_id, sid
        page = client.get("/login").get_data(as_text=True)
        headers["X-CSRFToken"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    else:
        headers["Authorization"] = f"Bearer {token}"
    if form is not None:
        form = {key: value() if callable(value) else value for key, value in form.items()}  # a fresh upload
        form = dict(form, csrf_token=headers["X-CSRFToken"]) if session_auth else form
        return client.open(path, method=method, data=form, headers=headers, query_string=query)
    return client.open(path, method=method, json=json, headers=headers, query_string=query)


def _same_answer(resp) -> dict:
    """What must match between another company's object and a missing one: the
    problem details (ids as N), or a page's text (ids and CSRF tokens as N)."""
    if resp.is_json:
        body = _comparable(resp)
        if "detail" in body:  # a photo's id is 32 hex digits, not a number
            body["detail"] = re.sub(r"\d+", "N", re.sub(r"\b[0-9a-f]{32}\b", "ID", resp.get_json()["detail"]))
        return body
    text = re.sub(r'(csrf[_-]token"[^>]*(?:value|content)=")[^"]+', r"\1", resp.get_data(as_text=True))
    return {"status": resp.status_code, "page": re.sub(r"\d+", "N", text)}


def _fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule)


@dataclass
class Run:
    app: object
    two: dict
    endpoint: str
    method: str
    rule: str

    @property
    def session_auth(self) -> bool:
        return self.endpoint.startswith(SESSION_BLUEPRINTS)

    def send(self, username: str, path: str, **kwargs):
        return _send(self.app, username, self.method, path, self.session_auth, **kwargs)


# ---------------------------------------------------------------- kinds of case


@dataclass
class Hidden:
    """A's object by its id answers 404, word for word like a missing id."""

    theirs: Callable[[dict], dict]  # path values naming A's objects
    json: dict | None = None
    form: dict | None = None
    keep: tuple[str, ...] = ()  # path values that stay in the missing-id call (B's own company)
    control: Callable[[dict], dict] | None = None  # where A's user reaches the object (default: theirs)

    def check(self, run: Run) -> None:
        values = self.theirs(run.two)
        missing = {
            k: v if k in self.keep else secrets.token_hex(16) if k == "photo_id" else MISSING
            for k, v in values.items()
        }
        body = {"json": self.json, "form": self.form}
        theirs = run.send(THEM, _fill(run.rule, values), **body)
        absent = run.send(THEM, _fill(run.rule, missing), **body)
        assert theirs.status_code == 404, (
            run.endpoint,
            theirs.status_code,
            theirs.get_data(as_text=True)[:300],
        )
        assert _same_answer(theirs) == _same_answer(absent)
        control = run.send(US, _fill(run.rule, (self.control or self.theirs)(run.two)), **body)
        assert control.status_code not in (401, 404), (run.endpoint, "control", control.status_code)


@dataclass
class Absent:
    """A list or a page: nothing of A's in it (also when the query names A's objects)."""

    query: Callable[[dict], dict] = lambda two: {}

    def check(self, run: Run) -> None:
        query = self.query(run.two)
        text = run.send(THEM, run.rule, query=query).get_data(as_text=True)
        assert not [m for m in run.two["markers"] if m in text], (run.endpoint, query)
        control = run.send(US, run.rule, query=query)
        assert control.status_code < 400, (run.endpoint, "control", control.status_code)
        assert any(m in control.get_data(as_text=True) for m in run.two["markers"]), (run.endpoint, "control")


@dataclass
class RefusedLikeMissing:
    """A body naming A's objects is refused word for word like one naming missing ids,
    and changes nothing of A's."""

    theirs: Callable[[dict], dict]
    missing: Callable[[dict], dict]
    form: bool = False

    def _send(self, run: Run, username: str, body: dict):
        return run.send(username, run.rule, **({"form": body} if self.form else {"json": body}))

    def check(self, run: Run) -> None:
        count = self._orders(run)
        theirs = self._send(run, THEM, self.theirs(run.two))
        absent = self._send(run, THEM, self.missing(run.two))
        assert 400 <= theirs.status_code < 500, (run.endpoint, theirs.status_code)
        assert _same_answer(theirs) == _same_answer(absent)
        assert self._orders(run) == count
        control = self._send(run, US, self.theirs(run.two) | self.control_fix(run.two))
        assert control.status_code == 201, (run.endpoint, "control", control.status_code)

    def control_fix(self, two: dict) -> dict:
        """What A's own user sends instead of B's fields (their own company)."""
        return {} if self.form else {"customer_id": two["a"]["customer_id"]}

    def _orders(self, run: Run) -> int:
        from workorders.models import WorkOrder

        session = run.app.extensions["db_sessionmaker"]()
        try:
            return session.scalar(
                select(func.count())
                .select_from(WorkOrder)
                .where(WorkOrder.customer_id == run.two["a"]["customer_id"])
            )
        finally:
            session.close()


@dataclass
class OwnOnly:
    """Acts on the caller's own login only (a logout): A's login works on afterwards."""

    def check(self, run: Run) -> None:
        a_token = _token(run.app, US)
        resp = run.send(THEM, run.rule, json={})
        assert resp.status_code < 400, (run.endpoint, resp.status_code)
        me = run.app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {a_token}"})
        assert me.status_code == 200 and me.get_json()["username"] == US


def _token(app, username: str) -> str:
    from core.auth import issue_tokens, token_ttls

    with app.test_request_context():
        session = app.extensions["db_sessionmaker"]()
        user = session.scalar(select(User).where(User.username == username))
        token = issue_tokens(session, user, *token_ttls())["access_token"]
        session.commit()
        session.close()
    return token


# ---------------------------------------------------------------- the table


def _order(two: dict) -> dict:
    return {"order_id": two["order_id"]}


def _company(two: dict) -> dict:
    return {"customer_id": two["a"]["customer_id"]}


NEW_USER = {"username": "b-intruder", "password": "long-enough-1", "display_name": "Intruder"}
FAULT_FORM = {
    "product": "lan_dedicated",
    "description": "乙方报障",
    "contact_name": "乙",
    "contact_phone": "13800000000",
}

CASES: dict[tuple[str, str], list] = {
    ("web.home", "GET"): [
        Absent(),
        Absent(lambda two: {"site": two["a"]["site_id"]}),
        Absent(lambda two: {"line": two["a"]["line_id"]}),
    ],
    ("web.report_fault", "GET"): [Absent()],
    ("web.report_fault", "POST"): [
        RefusedLikeMissing(
            lambda two: FAULT_FORM | {"circuit": f"{two['a']['site_id']}:{two['a']['line_id']}"},
            lambda two: FAULT_FORM | {"circuit": f"{MISSING}:{MISSING}"},
            form=True,
        ),
        RefusedLikeMissing(
            lambda two: FAULT_FORM | {"circuit": f"{two['a']['site_id']}:"},
            lambda two: FAULT_FORM | {"circuit": f"{MISSING}:"},
            form=True,
        ),
    ],
    ("web.order_comments", "GET"): [Hidden(_order)],
    ("web.order_comments", "POST"): [Hidden(_order, form={"body": "乙方插话"})],
    ("reports_page.closeout_page", "GET"): [Hidden(_order)],
    ("auth.me", "GET"): [Absent()],
    ("auth.logout", "POST"): [OwnOnly()],
    ("mobile.logout", "POST"): [OwnOnly()],
    ("workorders.WorkOrders", "GET"): [
        Absent(),
        Absent(lambda two: {"customer_id": two["a"]["customer_id"]}),
        Absent(lambda two: {"district": A_DISTRICT}),
    ],
    ("workorders.WorkOrders", "POST"): [
        # A's customer and site, against missing ones
        RefusedLikeMissing(
            lambda two: {"kind": "repair", "product": "lan", **two["a"]} | {"line_id": None},
            lambda two: {"kind": "repair", "product": "lan", "customer_id": MISSING, "site_id": MISSING},
        ),
        # B's own customer with A's site and line, against a missing site and line
        RefusedLikeMissing(
            lambda two: {
                "kind": "repair",
                "product": "lan",
                **two["a"],
                "customer_id": two["b"]["customer_id"],
            },
            lambda two: {
                "kind": "repair",
                "product": "lan",
                "customer_id": two["b"]["customer_id"],
                "site_id": MISSING,
                "line_id": MISSING,
            },
        ),
    ],
    ("workorders.order_detail", "GET"): [
        Hidden(_order),
        Hidden(lambda two: {"order_id": two["open_order_id"]}),
    ],
    ("web.portal_slots", "GET"): [Hidden(lambda two: {"order_id": two["open_order_id"]})],
    ("web.portal_slots", "POST"): [
        Hidden(lambda two: {"order_id": two["open_order_id"]}, form={"slot": "2030-01-02/am"})
    ],
    ("booking.order_slots", "GET"): [Hidden(lambda two: {"order_id": two["open_order_id"]})],
    ("booking.order_booking", "POST"): [
        Hidden(lambda two: {"order_id": two["open_order_id"]}, json={"day": "2030-01-02", "slot": "am"})
    ],
    ("customers.customer_detail", "GET"): [Hidden(_company)],
    ("workorders.OrderComments", "GET"): [Hidden(_order)],
    ("workorders.OrderComments", "POST"): [Hidden(_order, json={"body": "乙方插话"})],
    ("workorders.report_photo_upload", "POST"): [
        Hidden(_order, form={"file": lambda: (io.BytesIO(image_bytes()), "fault.jpg", "image/jpeg")})
    ],
    ("photos.staff_photo_list", "GET"): [Hidden(_order)],
    ("photos.staff_photo_file", "GET"): [Hidden(lambda two: {"photo_id": two["photo_id"]})],
    ("reports.closeout_report_pdf", "GET"): [Hidden(_order)],
    ("companies.Company", "GET"): [Hidden(_company)],
    ("companies.company_sites", "GET"): [Hidden(_company)],
    ("companies.CompanyUsers", "GET"): [Hidden(_company)],
    ("companies.CompanyUsers", "POST"): [Hidden(_company, json=NEW_USER)],
    ("companies.company_user_remove", "DELETE"): [
        # A's company and A's user; and B's own company (B's administrator manages it) with A's user
        Hidden(lambda two: {"customer_id": two["a"]["customer_id"], "user_id": two["a_user_id"]}),
        Hidden(
            lambda two: {"customer_id": two["b"]["customer_id"], "user_id": two["a_user_id"]},
            keep=("customer_id",),
            control=lambda two: {"customer_id": two["a"]["customer_id"], "user_id": two["a_user_id"]},
        ),
    ],
}


# Routes another change of issue 13 is adding (the close-out report): their cases run
# once the routes are registered. Take them out of here then.
def test_every_customer_route_has_a_case(app):
    routes = customer_routes(app)
    without = sorted(set(routes) - set(CASES))
    assert not without, f"routes a customer may call with no isolation case here: {without}"
    stale = sorted(set(CASES) - set(routes))
    assert not stale, f"cases for routes a customer may no longer call: {stale}"


@pytest.mark.parametrize(("endpoint", "method"), sorted(CASES))
def test_company_b_never_reaches_company_a(app, two, endpoint, method):
    rule = customer_routes(app).get((endpoint, method))
    if rule is None:
        pytest.fail(f"{endpoint} {method}: no such customer route (see test_every_customer_route_has_a_case)")
    for case in CASES[(endpoint, method)]:
        case.check(Run(app, two, endpoint, method, rule))
    session = app.extensions["db_sessionmaker"]()
    try:
        assert session.get(User, two["a_user_id"]).active, "A's user was removed by B"
        assert session.scalar(select(User).where(User.username == "b-intruder")) is None
    finally:
        session.close()
