"""The console's words for disruptions and their re-plans, in the page's language."""

from __future__ import annotations

from flask_babel import gettext as _


def disruption_strings() -> dict[str, str]:
    """Reporting a disruption and reviewing its re-plan (the diff)."""
    return {
        "disruption_report": _("Report a disruption"),
        "disruption_kind": _("What happened"),
        "disruption_technician-unavailable": _("Technician unavailable (ill, van broken)"),
        "disruption_no-show": _("Customer not home"),
        "disruption_overrun": _("Visit runs over"),
        "disruption_emergency": _("Emergency (P1)"),
        "disruption_technician": _("Technician ID"),
        "disruption_order": _("Order ID"),
        "disruption_extra_min": _("Extra minutes"),
        "disruption_submit": _("Re-plan"),
        "replan_title": _("Re-plan to review"),
        "replan_moved": _("Moved"),
        "replan_retimed": _("Re-timed"),
        "replan_dropped": _("Left unplaced"),
        "replan_added": _("Added"),
        "replan_closed": _("Closed as no-show"),
        "replan_revisit": _("Suggested revisit: %(day)s %(time)s with %(name)s"),
        "replan_no_revisit": _("No revisit slot within a week: book one by hand."),
        "replan_cost": _("Cost change"),
        "replan_before": _("Before"),
        "replan_after": _("After"),
        "replan_travel_km": _("Travel (km)"),
        "replan_late_min": _("Late (min)"),
        "replan_breaches": _("Breaches"),
        "replan_unplaced": _("Unplaced"),
        "replan_apply": _("Apply the re-plan"),
        "replan_nothing": _("No change to apply."),
    }
