"""Who may call what: every rule of the app's URL map, for every role, against a
declared table. A new endpoint without an entry here fails this test.

Allowed roles must get past authorization (no 401/403, never a 5xx); others get
401 (no login) or 403 (wrong role), and pages send the anonymous to the login
page. A customer asking for another company's order, customer or site gets the
404 that a missing id gets, word for word.
"""

from __future__ import annotations

import re
import secrets

import pytest

from core.actor import Actor

ROLES = ("anonymous", "customer", "technician", "agent", "dispatcher", "manager", "admin")
LOGGED_IN = frozenset(ROLES[1:])
STAFF = frozenset({"agent", "dispatcher", "manager", "admin"})
PLANNERS = frozenset({"dispatcher", "admin"})
VIEWERS = frozenset({"dispatcher", "manager", "admin"})
FIELD = frozenset({"technician"})
PUBLIC = "public"  # no login needed (login doors, the spec, static files)

# (endpoint, method) -> roles allowed, or PUBLIC
DECLARED: dict[tuple[str, str], frozenset[str] | str] = {
    ("static", "GET"): PUBLIC,
    ("console.static", "GET"): PUBLIC,
    ("api-docs.openapi_json", "GET"): PUBLIC,
    ("web.api_docs", "GET"): PUBLIC,
    ("web.integration_guide", "GET"): PUBLIC,
    ("web.login", "GET"): PUBLIC,
    ("web.login", "POST"): PUBLIC,
    ("web.logout", "POST"): PUBLIC,
    ("web.home", "GET"): LOGGED_IN,
    ("reports_page.closeout_page", "GET"): LOGGED_IN,
    ("reports.closeout_report_pdf", "GET"): STAFF | {"customer"},
    ("console.page", "GET"): VIEWERS,
    ("auth.token", "POST"): PUBLIC,
    ("auth.refresh", "POST"): PUBLIC,
    ("auth.logout", "POST"): LOGGED_IN,
    ("auth.me", "GET"): LOGGED_IN,
    ("auth.Users", "GET"): frozenset({"admin", "manager", "dispatcher"}),
    ("auth.Users", "POST"): frozenset({"admin"}),
    ("auth.job_status", "GET"): VIEWERS,
    ("auth.job_cancel", "POST"): PLANNERS,
    ("customers.Customers", "GET"): STAFF,
    ("customers.Customers", "POST"): STAFF,
    ("customers.customer_detail", "GET"): STAFF | {"customer"},
    ("customers.add_site", "POST"): STAFF,
    ("customers.add_line", "POST"): STAFF,
    ("customers.repeat_contact", "POST"): STAFF,
    ("workorders.order_preview", "POST"): STAFF,
    ("web.intake", "GET"): STAFF,
    ("workorders.WorkOrders", "GET"): STAFF | {"technician", "customer"},
    ("workorders.WorkOrders", "POST"): STAFF | {"customer"},
    ("workorders.order_detail", "GET"): STAFF | {"technician", "customer"},
    ("workorders.order_transition", "POST"): STAFF | FIELD,
    ("workorders.order_handover", "POST"): STAFF,
    ("workorders.order_override", "POST"): frozenset({"dispatcher", "manager", "admin"}),
    ("workorders.order_crew", "PATCH"): STAFF,
    ("workorders.order_sla_pause", "POST"): STAFF | FIELD,
    ("workorders.order_sla_resume", "POST"): STAFF | FIELD,
    ("workorders.order_audit", "GET"): STAFF,
    ("notifications.outbox_list", "GET"): STAFF,
    ("notifications.order_notifications", "GET"): STAFF,
    ("notifications.order_notifications_retry", "POST"): STAFF,
    ("workorders.OrderComments", "GET"): STAFF | {"customer"},
    ("workorders.OrderComments", "POST"): STAFF | {"customer"},
    ("workorders.report_photo_upload", "POST"): STAFF | {"customer"},
    # Complaints are the service center's: staff only (a customer's complaint is an order
    # they read through /workorders like any other).
    ("complaints.Complaints", "GET"): STAFF,
    ("complaints.Complaints", "POST"): STAFF,
    ("complaints.complaint_detail", "GET"): STAFF,
    ("complaints.complaint_answer", "POST"): STAFF,
    ("complaints.complaint_handling", "POST"): STAFF,
    ("complaints.complaint_final_answer", "POST"): STAFF,
    ("complaints.complaint_handover", "POST"): STAFF,
    ("web.report_fault", "GET"): frozenset({"customer"}),
    ("web.report_fault", "POST"): frozenset({"customer"}),
    ("web.order_comments", "GET"): frozenset({"customer"}),
    ("web.order_comments", "POST"): frozenset({"customer"}),
    ("web.portal_slots", "GET"): frozenset({"customer"}),
    ("web.portal_slots", "POST"): frozenset({"customer"}),
    ("web.followup_queue", "GET"): STAFF,
    ("web.followup_record", "POST"): STAFF,
    ("followups.followup_list", "GET"): STAFF,
    ("followups.followup_detail", "GET"): STAFF,
    ("followups.followup_result", "POST"): STAFF,
    ("companies.Company", "GET"): STAFF | {"customer"},
    ("companies.Company", "PATCH"): frozenset({"admin"}),
    ("companies.CompanyUsers", "GET"): STAFF | {"customer"},
    # Adding and removing a company's logins: an administrator, and a customer (their own
    # company's administrator; another company is a 404). Other staff only as the company's
    # account manager, which the objects below are not: 403.
    ("companies.CompanyUsers", "POST"): frozenset({"admin", "customer"}),
    ("companies.company_user_remove", "DELETE"): frozenset({"admin", "customer"}),
    ("companies.company_sites", "GET"): STAFF | {"customer"},
    ("photos.staff_photo_list", "GET"): STAFF | {"customer"},
    ("photos.staff_photo_file", "GET"): STAFF | {"customer"},
    ("technicians.Technicians", "GET"): frozenset({"dispatcher", "manager", "agent", "admin"}),
    ("technicians.Technicians", "POST"): PLANNERS,
    ("technicians.technician_detail", "GET"): frozenset({"dispatcher", "manager", "agent", "admin"}),
    # The roster: agents read, dispatchers, managers and administrators edit.
    ("roster.Teams", "GET"): STAFF,
    ("roster.Teams", "POST"): VIEWERS,
    ("roster.team_update", "PATCH"): VIEWERS,
    ("roster.membership", "PATCH"): VIEWERS,
    ("roster.technician_shifts", "GET"): STAFF,
    ("roster.Patterns", "GET"): STAFF,
    ("roster.Patterns", "POST"): VIEWERS,
    ("roster.pattern_update", "PATCH"): VIEWERS,
    ("roster.Assignments", "GET"): STAFF,
    ("roster.Assignments", "POST"): VIEWERS,
    ("roster.assignment_update", "PATCH"): VIEWERS,
    ("roster.assignment_remove", "DELETE"): VIEWERS,
    ("roster.Exceptions", "GET"): STAFF,
    ("roster.Exceptions", "POST"): VIEWERS,
    ("roster.exception_remove", "DELETE"): VIEWERS,
    ("roster.Certifications", "GET"): STAFF,
    ("roster.Certifications", "POST"): VIEWERS,
    ("roster.certification_remove", "DELETE"): VIEWERS,
    ("roster.expiring", "GET"): STAFF,
    ("roster.week", "GET"): STAFF,
    ("roster.leave_requests", "GET"): STAFF,
    ("roster.leave_decision", "POST"): VIEWERS,
    ("replans.replans", "GET"): VIEWERS,
    ("web.roster_page", "GET"): STAFF,
    ("web.roster_exception", "POST"): VIEWERS,
    ("mobile.my_shifts", "GET"): FIELD,
    ("mobile.leave_request", "POST"): FIELD,
    ("mobile.my_leave_requests", "GET"): FIELD,
    ("stock.stock_items", "GET"): VIEWERS,
    ("stock.Depots", "GET"): VIEWERS,
    ("stock.Depots", "POST"): PLANNERS,
    ("stock.technician_van", "GET"): VIEWERS,
    ("stock.issue_stock", "POST"): PLANNERS,
    ("stock.return_stock", "POST"): PLANNERS,
    ("stock.write_off_stock", "POST"): PLANNERS,
    ("stock.stock_moves", "GET"): VIEWERS,
    ("equipment.serial_trace", "GET"): STAFF,
    ("mobile.my_van", "GET"): FIELD,
    ("dispatch.start_plan", "POST"): PLANNERS,
    ("dispatch.plan_detail", "GET"): VIEWERS,
    ("dispatch.plan_apply", "POST"): PLANNERS,
    ("dispatch.plan_discard", "POST"): PLANNERS,
    ("dispatch.plan_explain", "GET"): VIEWERS,
    ("dispatch.visit_explain", "GET"): VIEWERS,
    ("dispatch.plan_kpis", "GET"): VIEWERS,
    ("disruptions.technician_unavailable", "POST"): PLANNERS,
    ("disruptions.no_show", "POST"): PLANNERS,
    ("disruptions.overrun", "POST"): PLANNERS,
    ("disruptions.emergency", "POST"): PLANNERS,
    ("disruptions.disruption_detail", "GET"): VIEWERS,
    ("booking.order_slots", "GET"): STAFF | {"customer"},
    ("booking.order_booking", "POST"): STAFF | {"customer"},
    ("booking.draft_slots", "POST"): STAFF,
    ("booking.balance_week", "GET"): VIEWERS,
    ("booking.apply_balance", "POST"): VIEWERS,
    ("console.orders_feed", "GET"): VIEWERS,
    ("console.technicians_feed", "GET"): VIEWERS,
    ("console.routes_feed", "GET"): VIEWERS,
    ("console.live_feed", "GET"): VIEWERS,
    ("console.roads_feed", "GET"): VIEWERS,
    ("console.order_detail", "GET"): VIEWERS,
    ("console.order_candidates", "GET"): VIEWERS,
    ("console.order_assign", "POST"): PLANNERS,
    ("console.order_unassign", "POST"): PLANNERS,
    ("console.order_cancel", "POST"): PLANNERS,
    ("console.urgent_start", "POST"): PLANNERS,
    ("console.plan_detail", "GET"): VIEWERS,
    ("mobile.login", "POST"): PUBLIC,
    ("mobile.refresh", "POST"): PUBLIC,
    ("mobile.logout", "POST"): LOGGED_IN,
    ("mobile.me", "GET"): FIELD,
    ("mobile.route", "GET"): FIELD,
    ("mobile.location", "POST"): FIELD,
    ("mobile.sync", "POST"): FIELD,
    ("mobile.order_detail", "GET"): FIELD,
    ("mobile.order_status", "POST"): FIELD,
    ("mobile.checklist", "GET"): FIELD,
    ("mobile.checklist_submit", "POST"): FIELD,
    ("mobile.followup", "POST"): FIELD,
    ("mobile.followup_request", "POST"): FIELD,
    ("mobile.photo_upload", "POST"): FIELD,
    ("mobile.photo_list", "GET"): FIELD,
    ("mobile.photo_file", "GET"): FIELD,
    ("manager_reports.report_figures", "GET"): VIEWERS,
    ("manager_reports.report_orders", "GET"): VIEWERS,
    ("manager_reports.report_export", "GET"): VIEWERS,
    ("manager_reports.report_utilisation", "GET"): VIEWERS,
    ("manager_reports.report_durations", "GET"): VIEWERS,
    ("manager_reports.report_utilisation_export", "GET"): VIEWERS,
    ("manager_page.page", "GET"): VIEWERS,
    ("manager_page.orders_page", "GET"): VIEWERS,
    ("manager_page.map_frame", "GET"): VIEWERS,
    ("manager_page.map_file", "GET"): VIEWERS,
}
PAGES = {
    "web.home",
    "web.followup_queue",
    "web.intake",
    "web.roster_page",
    "console.page",
    "reports_page.closeout_page",
    "manager_page.page",
    "manager_page.orders_page",
    "manager_page.map_frame",
    "manager_page.map_file",
}  # the anonymous are sent to the login page
SESSION_BLUEPRINTS = (
    "console.",
    "web.",
    "reports_page.",
    "manager_page.",
)  # pages and their feeds: cookie and CSRF token


def _routes(app) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


def test_every_route_is_declared(app):
    missing = [(e, m, r) for e, m, r in _routes(app) if (e, m) not in DECLARED]
    assert not missing, f"routes without an entry in the authorization table: {missing}"
    stale = set(DECLARED) - {(e, m) for e, m, _r in _routes(app)}
    assert not stale, f"table entries for routes that no longer exist: {stale}"


@pytest.fixture()
def objects(app, client, world, db):
    """Company A's customer user; company B's customer, site and order; a plan, a job, a technician."""
    from core import jobs
    from core.clock import now
    from workorders import followups, service

    for role in ROLES[3:]:
        world.user(role, role)
    world.technician("technician", ["adsl"])  # a technician login with its profile
    a = world.customer(
        "甲公司", kind="enterprise", tier="group", access_type="lan", route_length_m=None, occupancy_pct=20
    )
    b = world.customer(
        "乙公司", kind="enterprise", tier="local_a", access_type="lan", route_length_m=None, occupancy_pct=20
    )
    world.user("customer", "customer", customer_id=a["customer_id"])
    admin = Actor(user_id=None, username="test", role="admin", origin="test")
    order_b = service.create_order(
        db,
        admin,
        {
            "kind": "repair",
            "product": "lan",
            "priority": "P2",
            "source": "hotline",
            **{k: b[k] for k in ("customer_id", "site_id")},
        },
    )
    # company B (local A) is due a periodic visit: a follow-up task of theirs
    visit_b = next(t for t in followups.plan_periodic_visits(db, now()) if t.customer_id == b["customer_id"])
    db.commit()
    plan_id = world.proposed_plan()
    with app.app_context():
        job = jobs.enqueue(db, "echo", {"message": "x"}, None)
    return {
        "order_id": order_b.id,
        "customer_id": b["customer_id"],
        "site_id": b["site_id"],
        "user_id": world.user("b-colleague", "customer", customer_id=b["customer_id"]),
        "plan_id": plan_id,
        "job_id": job.id,
        "technician_id": 1,
        "photo_id": secrets.token_hex(16),
        "filename": "console.js",
        "followup_id": visit_b.id,
        # the roster's objects: none exists (an allowed role gets past authorization to a 404)
        "team_id": 1,
        "pattern_id": 1,
        "assignment_id": 1,
        "exception_id": 1,
        "request_id": 1,
        "skill": "adsl",
    }


def _path(rule: str, values: dict, missing: bool = False) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        if missing and name.endswith("_id") and name != "photo_id":
            return "999999"
        return str(values[name])

    return re.sub(r"<([^>]+)>", fill, rule)


def _call(app, role: str, method: str, path: str, session_auth: bool):
    """One request as ``role``: a bearer token for the APIs, the session cookie
    and the page's CSRF token for pages and the console."""
    if method == "GET":
        return _send(app, role, method, path, session_auth, None, None)
    return _send(app, role, method, path, session_auth, {}, None)


def test_each_role_gets_what_the_table_declares(app, objects):
    wrong = []
    for endpoint, method, rule in _routes(app):
        allowed = DECLARED[(endpoint, method)]
        session_auth = endpoint.startswith(SESSION_BLUEPRINTS)
        for role in ROLES:
            resp = _call(app, role, method, _path(rule, objects), session_auth)
            status = resp.status_code
            if status >= 500:
                wrong.append((endpoint, method, role, status, "server error"))
            elif allowed == PUBLIC or role in allowed:
                if status in (401, 403):
                    wrong.append((endpoint, method, role, status, "refused an allowed role"))
            elif role == "anonymous":
                expected = (302,) if endpoint in PAGES else (401,)
                if status not in expected:
                    wrong.append((endpoint, method, role, status, f"expected {expected}"))
            elif status != 403:
                wrong.append((endpoint, method, role, status, "expected 403"))
    assert not wrong, "\n".join(map(str, wrong))


def _comparable(resp) -> dict:
    body = dict(resp.get_json() or {})
    body.pop("instance", None)
    if "detail" in body:
        body["detail"] = re.sub(r"\d+", "N", body["detail"])
    return {"status": resp.status_code, **body}


@pytest.mark.parametrize(
    ("endpoint", "method"),
    [
        ("workorders.order_detail", "GET"),
        ("customers.customer_detail", "GET"),
        ("photos.staff_photo_list", "GET"),
        ("workorders.WorkOrders", "GET"),
    ],
)
def test_another_companys_objects_answer_like_missing_ones(app, objects, endpoint, method):
    rule = next(r for e, m, r in _routes(app) if (e, m) == (endpoint, method))
    if "<" not in rule:  # the list: company B's order is simply not in it
        resp = _call(app, "customer", method, rule, False)
        assert resp.status_code == 200 and objects["order_id"] not in [o["id"] for o in resp.get_json()]
        return
    theirs = _call(app, "customer", method, _path(rule, objects), False)
    missing = _call(app, "customer", method, _path(rule, objects, missing=True), False)
    assert theirs.status_code == 404
    assert _comparable(theirs) == _comparable(missing)


def _body_schema(spec: dict, path: str, method: str) -> dict | None:
    operation = spec["paths"].get(path, {}).get(method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _hostile_bodies(schema: dict | None) -> list:
    properties = (schema or {}).get("properties") or {"description": {"type": "string"}}
    wrong = {"string": 123, "integer": "x", "number": "x", "boolean": "x", "array": "x", "object": "x"}
    return [
        {name: "故障\x00" for name in properties},
        {name: "故障\ud800" for name in properties},
        {name: wrong.get(p.get("type"), None) for name, p in properties.items()},
        {name: [[[[[]]]]] for name in properties},
    ]


def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule)


def test_hostile_bodies_on_every_json_endpoint_are_4xx(app, client, objects):
    """NUL, lone surrogates, wrong types, deep nesting and oversized bodies: never a 5xx."""
    spec = client.get("/openapi.json").get_json()
    deep = "[" * 60_000 + "]" * 60_000
    huge = '{"description": "' + "长" * (5 * 1024 * 1024) + '"}'  # 15 MB of UTF-8, over the limit
    wrong = []
    for endpoint, method, rule in _routes(app):
        allowed = DECLARED[(endpoint, method)]
        if (
            method == "GET"
            or endpoint in ("web.login", "web.logout")
            or allowed == PUBLIC
            and "auth" not in endpoint
        ):
            continue
        role = "anonymous" if allowed == PUBLIC else sorted(allowed)[0]
        session_auth = endpoint.startswith(SESSION_BLUEPRINTS)
        path = _path(rule, objects)
        attempts = [("json", body) for body in _hostile_bodies(_body_schema(spec, _spec_path(rule), method))]
        attempts += [("raw", deep), ("raw", huge)]
        for kind, body in attempts:
            resp = _send(
                app,
                role,
                method,
                path,
                session_auth,
                body if kind == "json" else None,
                body if kind == "raw" else None,
            )
            if resp.status_code >= 500 or resp.status_code < 400 and kind == "raw":
                wrong.append(
                    (endpoint, method, role, kind, resp.status_code, resp.get_data(as_text=True)[:200])
                )
    assert not wrong, "\n".join(map(str, wrong))


def _send(app, role, method, path, session_auth, json_body, raw_body):
    """One request as ``role`` with a JSON body or raw bytes (see _call)."""
    from sqlalchemy import select

    from core.auth import issue_tokens, start_web_session, token_ttls
    from core.models import User

    client = app.test_client()
    headers = {}
    if role != "anonymous":
        with app.test_request_context():
            session = app.extensions["db_sessionmaker"]()
            user = session.scalar(select(User).where(User.username == role))
            sid = start_web_session(session, user) if session_auth else None
            token = None if session_auth else issue_tokens(session, user, *token_ttls())["access_token"]
            session.commit()
            session.close()
        if session_auth:
            with client.session_transaction() as web_session:
                web_session["user_id"], web_session["sid"] = user.id, sid
        else:
            headers["Authorization"] = f"Bearer {token}"
    if session_auth:
        page = client.get("/login").get_data(as_text=True)
        headers["X-CSRFToken"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    if method == "GET":
        return client.get(path, headers=headers)
    if raw_body is not None:
        return client.open(
            path, method=method, data=raw_body.encode(), headers=headers, content_type="application/json"
        )
    return client.open(path, method=method, json=json_body, headers=headers)
