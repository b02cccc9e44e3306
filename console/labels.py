"""What the console page says that is not data: a label for every code it shows
and the sentences its script fills in, in the reader's language.

Everything goes through flask-babel (catalogs in ``translations/``), so the page
never shows a raw code (``repair``, ``iptv_lan``, ``dispatcher``) in either language.
The labels of codes (states, kinds, products, priorities, tiers, skills, roles)
are :mod:`workorders.labels`'; this module adds the console's own words.
"""

from __future__ import annotations

from flask_babel import gettext as _

from dispatch.routing.problem import REASON_MESSAGES
from workorders import labels as code_names


def access_labels() -> dict[str, str]:
    return {"adsl": "ADSL", "lan": "LAN"}


def reason_labels() -> dict[str, str]:
    """Why the optimizer left an order out of a plan (the optimizer's English text is the message id)."""
    return {code: _(english) for code, (_chinese, english) in REASON_MESSAGES.items()}


def lacks_skills(skill_names: list[str]) -> str:
    return _("Lacks: %(skills)s", skills="/".join(skill_names))


def fit_labels() -> dict[str, str]:
    """Why one technician cannot take an order, for the assign list."""
    return {
        "no_skilled_technician": _("Lacks a skill the order needs, or the district is outside their areas"),
        "window_unreachable": _("Cannot reach the appointment window within the shift"),
        "day_full": _("Day is full"),
        "pinned_technician_unavailable": _("Not on shift, or the order does not fit the shift"),
        "window_passed": _("The appointment window has passed"),
        "not_evaluated": _("Farther away: not worked out; choose among the nearer ones first"),
    }


def audit_reasons() -> dict[str, str]:
    """Reasons the services write into the audit trail themselves (in English), for the reader.

    What a person typed as a reason is shown as typed.
    """
    return {
        "intake passed": _("Intake checks passed"),
        "planned": _("Placed by the day's plan"),
        "re-planned": _("Moved by the day's plan"),
        "assigned in the console": _("Assigned in the console"),
        "moved in the console": _("Moved in the console"),
        "unassigned in the console": _("Taken back in the console"),
    }


def audit_reason(reason: str | None, known: dict[str, str]) -> str | None:
    """One audit reason in the reader's language (``known``: :func:`audit_reasons`)."""
    if not reason:
        return reason
    if reason in known:
        return known[reason]
    code = reason.removeprefix("unplanned: ")  # plans.apply_plan: an order the plan left out
    if code != reason and code in REASON_MESSAGES:
        return _("Left out of the plan: %(reason)s", reason=_(REASON_MESSAGES[code][1]))
    return reason


def code_labels(lang: str) -> dict[str, dict[str, str]]:
    """Every code the page shows, grouped by what it is, in the page's language."""
    return {
        "state": code_names.labels("state", lang),
        "kind": code_names.labels("kind", lang),
        "product": code_names.labels("product", lang),
        "priority": code_names.labels("priority", lang),
        "risk": {"breached": _("SLA breached"), "at_risk": _("SLA at risk"), "fine": _("Within SLA")},
        "skill": code_names.labels("skill", lang),
        "tier": code_names.labels("tier", lang),
        "reason": reason_labels(),
        "fit": fit_labels(),
        "role": code_names.labels("role", lang),
        "source": code_names.labels("source", lang),
        "phase": {
            "queued": _("Queued"),
            "construction": _("Building routes"),
            "first_solution": _("First solution"),
            "local_search": _("Improving"),
            "done": _("Done"),
            "building": _("Reading the day"),
            "inserting": _("Inserting the order"),
            "districts": _("Planning district by district"),
        },
        "job_status": {
            "queued": _("Queued"),
            "running": _("Running"),
            "finished": _("Finished"),
            "failed": _("Failed"),
            "cancelled": _("Cancelled"),
        },
        "segment": {
            "travel": _("Travel"),
            "work": _("Work"),
            "lunch": _("Lunch"),
            "idle": _("Idle"),
            "off": _("Off shift"),
        },
        "action": {
            "created": _("Created"),
            "handover": _("Handed over"),
            "read_personal": _("Customer data read"),
            "sla_paused": _("SLA clock paused"),
            "sla_resumed": _("SLA clock resumed"),
            "checklist_override": _("Checklist override"),
            "repeat_repair_opened": _("Repeat repair opened"),
            "read_photo": _("Photo viewed"),
            "comment_added": _("Comment added"),
            "fault_reported": _("Fault reported"),
            "photo_added": _("Photo added"),
        },
    }


def page_strings() -> dict[str, str]:
    """Sentences the page's script builds at run time (``%(name)s`` filled in by the script)."""
    return {**_map_strings(), **_panel_strings(), **_planning_strings(), **_review_strings()}


def _map_strings() -> dict[str, str]:
    """The toolbar, the map and the timeline."""
    return {
        "orders_shown": _("%(shown)s of %(total)s open orders shown"),
        "loading": _("Loading…"),
        "load_failed": _("Could not load the map data; retrying."),
        "updated": _("Updated %(time)s"),
        "no_route": _("No planned stops"),
        "km": _("%(km)s km"),
        "stops_today": _("%(n)s stops"),
        "position_seen": _("last seen %(time)s"),
        "at_home": _("at home base"),
        "shift": _("Shift"),
        "source_plan": _("from the plan"),
        "source_estimate": _("estimated"),
        "stop": _("Stop %(seq)s"),
    }


def _panel_strings() -> dict[str, str]:
    """One order in the side panel and what the dispatcher does with it."""
    return {
        "assign": _("Assign"),
        "move": _("Move"),
        "unassign": _("Unassign"),
        "cancel_order": _("Cancel order"),
        "cancel_reason": _("Reason for cancelling"),
        "reason_required": _("Say why the order is cancelled."),
        "assigned_ok": _("%(code)s assigned to %(name)s, stop %(seq)s at %(time)s."),
        "unassigned_ok": _("%(code)s taken back from the technician."),
        "cancelled_ok": _("%(code)s cancelled."),
        "refused": _("Refused"),
        "fit_at": _("starts %(time)s, +%(km)s km, %(free)s min to spare"),
        "delays_others": _("delays %(n)s visits"),
        "choose_technician": _("Choose a technician"),
        "details": _("Details"),
        "findings": _("Standards findings"),
        "no_findings": _("No findings."),
        "sla": _("SLA clocks"),
        "audit": _("Audit trail"),
        "photos": _("Photos"),
        "no_photos": _("No photos yet."),
        "response_due": _("Respond by"),
        "restore_due": _("Restore by"),
        "responded": _("Responded"),
        "paused": _("Clock paused"),
        "left": _("%(time)s left"),
        "over": _("%(time)s over"),
        "hours_minutes": _("%(hours)s h %(minutes)s min"),
        "minutes": _("%(n)s min"),
        "customer": _("Customer"),
        "address": _("Address"),
        "district": _("District"),
        "product": _("Product"),
        "kind": _("Kind"),
        "priority": _("Priority"),
        "state": _("State"),
        "technician": _("Technician"),
        "planned": _("Planned"),
        "appointment": _("Appointment"),
        "skills": _("Skills needed"),
        "duration": _("On site"),
        "description": _("Description"),
        "owner": _("Owner"),
        "blocked": _("Blocked by the installation code"),
        "source": _("Source"),
        "eta": _("Expected arrival"),
        "eta_from": _("from the position at %(time)s"),
        "fault_since": _("Since when"),
        "site_contact": _("Contact on site"),
        "comments": _("Comments"),
        "no_comments": _("No comments yet."),
        "comment_placeholder": _("Write to the customer and colleagues"),
        "comment_send": _("Send"),
        "comment_empty": _("Write a comment first."),
        "comment_sent": _("Comment added."),
        "repeat_fault": _("Repeat fault"),
        "parent_order": _("Parent order"),
        "repeat_repairs": _("Repeat repairs"),
    }


def _planning_strings() -> dict[str, str]:
    """Planning jobs, urgent insertion and a proposal under review."""
    return {
        "plan_running": _("Planning the day…"),
        "stop_search": _("Stop searching (keep the best plan)"),
        "job_failed": _("The optimizer failed: %(error)s"),
        "best_cost": _("best cost %(cost)s"),
        "plan_result": _("Proposed plan"),
        "plan_summary": _(
            "%(planned)s orders planned on %(techs)s technicians, "
            "%(unassigned)s left out, %(km)s km of driving, %(late)s late."
        ),
        "nothing_to_accept": _("This proposal places no order: nothing to accept."),
        "unassigned_orders": _("Orders left out"),
        "none_left_out": _("Every order is planned."),
        "accept": _("Accept"),
        "discard": _("Discard"),
        "applied": _("Plan applied."),
        "discarded": _("Plan discarded."),
        "pick_urgent": _("Pick an urgent order on the map (or from this list)."),
        "no_urgent": _("No urgent order waiting for a technician."),
        "insert": _("Insert"),
        "urgent_summary_ok": _("%(code)s fits: %(name)s, stop %(seq)s at %(time)s."),
        "urgent_summary_no": _("%(code)s fits nowhere today."),
        "urgent_displaces": _("It displaces %(n)s lower-priority visits (listed below)."),
        "displaced": _("Moved out of today to make room"),
        "deadline_today": _("due today"),
        "delayed": _("Visits pushed later"),
        "late_min": _("%(n)s min late"),
    }


def _review_strings() -> dict[str, str]:
    """Which routes the map draws, a plan's figures and its explanations."""
    return {
        "routes_hint": _("Choose a technician or a district (or all routes) to see routes."),
        "way_home": _("Way home"),
        "depot_stop": _("Restock at %(depot)s, %(from)s–%(to)s"),
        "depot_mark": _("Depot"),
        "kpis": _("Figures"),
        "kpi_travel": _("Travel"),
        "kpi_travel_value": _("%(km)s km · %(min)s min"),
        "kpi_utilisation": _("Utilisation (work / shift)"),
        "kpi_at_risk": _("Deadlines at risk"),
        "kpi_breaches": _("Deadlines missed"),
        "kpi_unassigned": _("Left out"),
        "why": _("Why?"),
        "why_technician": _("Why this technician"),
        "why_time": _("Why this time"),
        "why_cost": _("What it costs"),
        "why_left_out": _("Why it was left out"),
        "explanation": _("In this plan"),
    }
