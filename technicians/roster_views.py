"""The roster's staff API (/api/v1/roster): teams, shift patterns, assignments,
exceptions, certificates, leave decisions and a team's week.

Dispatchers, managers and administrators edit; agents read. Leave is decided by the
technician's team supervisor or a manager (technicians.leave).
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from technicians import certifications, leave, roster_service
from technicians.roster_schemas import (
    AssignmentCreateSchema,
    AssignmentQuerySchema,
    AssignmentSchema,
    AssignmentUpdateSchema,
    CertificationCreateSchema,
    CertificationSchema,
    DateRangeSchema,
    DayShiftSchema,
    ExceptionCreateSchema,
    ExceptionQuerySchema,
    ExceptionSchema,
    ExpiringQuerySchema,
    ExpiringSchema,
    LeaveDecisionSchema,
    LeaveQuerySchema,
    LeaveRequestSchema,
    MemberSchema,
    MembershipSchema,
    PatternCreateSchema,
    PatternFields,
    PatternSchema,
    TeamCreateSchema,
    TeamSchema,
    TeamUpdateSchema,
    WeekQuerySchema,
    WeekSchema,
)
from technicians.roster_week import week_start, week_view
from technicians.service import get_technician
from technicians.shifts import shifts_between

blp = Blueprint("roster", __name__, url_prefix="/api/v1/roster", description="Roster: teams, shifts, leave")

READERS = ("dispatcher", "manager", "agent", "admin")
EDITORS = ("dispatcher", "manager", "admin")


@blp.route("/teams")
class Teams(MethodView):
    @require_roles(*READERS)
    @blp.response(200, TeamSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """Every team."""
        return roster_service.list_teams(get_session())

    @require_roles(*EDITORS)
    @blp.arguments(TeamCreateSchema)
    @blp.response(201, TeamSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Create a team (unique name; coverage mode preference or hard)."""
        return roster_service.create_team(get_session(), g.actor, args)


@blp.route("/teams/<int:team_id>", methods=["PATCH"])
@require_roles(*EDITORS)
@blp.arguments(TeamUpdateSchema)
@blp.response(200, TeamSchema)
@blp.doc(security=BEARER)
def team_update(args, team_id: int):
    """Rename a team, change its supervisor or coverage mode."""
    return roster_service.update_team(get_session(), g.actor, team_id, args)


@blp.route("/technicians/<int:technician_id>", methods=["PATCH"])
@require_roles(*EDITORS)
@blp.arguments(MembershipSchema)
@blp.response(200, MemberSchema)
@blp.doc(security=BEARER)
def membership(args, technician_id: int):
    """A technician's team, coverage districts, home base and active flag."""
    return roster_service.update_membership(get_session(), g.actor, technician_id, args)


@blp.route("/technicians/<int:technician_id>/shifts")
@require_roles(*READERS)
@blp.arguments(DateRangeSchema, location="query")
@blp.response(200, DayShiftSchema(many=True))
@blp.doc(security=BEARER)
def technician_shifts(args, technician_id: int):
    """A technician's effective shift on each day from ``first`` to ``last`` (null: off)."""
    session = get_session()
    return shifts_between(session, get_technician(session, technician_id), args["first"], args["last"])


@blp.route("/patterns")
class Patterns(MethodView):
    @require_roles(*READERS)
    @blp.response(200, PatternSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """Every shift pattern."""
        return roster_service.list_patterns(get_session())

    @require_roles(*EDITORS)
    @blp.arguments(PatternCreateSchema)
    @blp.response(201, PatternSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Create a pattern: on the official working days, or a rota (cycle of days on/off)."""
        return roster_service.create_pattern(get_session(), g.actor, args)


@blp.route("/patterns/<int:pattern_id>", methods=["PATCH"])
@require_roles(*EDITORS)
@blp.arguments(PatternFields)
@blp.response(200, PatternSchema)
@blp.doc(security=BEARER)
def pattern_update(args, pattern_id: int):
    """Change a pattern; days already planned for its technicians are marked for a re-plan."""
    return roster_service.update_pattern(get_session(), g.actor, pattern_id, args)


@blp.route("/assignments")
class Assignments(MethodView):
    @require_roles(*READERS)
    @blp.arguments(AssignmentQuerySchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, args):
        """Pattern assignments (of one technician when given)."""
        return roster_service.list_assignments(get_session(), args.get("technician_id"))

    @require_roles(*EDITORS)
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """A technician works a pattern from a date (rotated by an offset for rotas)."""
        return roster_service.assign_pattern(get_session(), g.actor, args)


@blp.route("/assignments/<int:assignment_id>", methods=["PATCH"])
@require_roles(*EDITORS)
@blp.arguments(AssignmentUpdateSchema)
@blp.response(200, AssignmentSchema)
@blp.doc(security=BEARER)
def assignment_update(args, assignment_id: int):
    """Change an assignment's pattern, first or last day (null: open-ended) or rotation offset;
    the days it covered or covers now are marked for a re-plan."""
    return roster_service.update_assignment(get_session(), g.actor, assignment_id, args)


@blp.route("/assignments/<int:assignment_id>", methods=["DELETE"])
@require_roles(*EDITORS)
@blp.response(204)
@blp.doc(security=BEARER)
def assignment_remove(assignment_id: int):
    """Take a pattern assignment away."""
    roster_service.remove_assignment(get_session(), g.actor, assignment_id)


@blp.route("/exceptions")
class Exceptions(MethodView):
    @require_roles(*READERS)
    @blp.arguments(ExceptionQuerySchema, location="query")
    @blp.response(200, ExceptionSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, args):
        """Leave, sick, training and overtime from ``first`` to ``last``."""
        ids = [args["technician_id"]] if args.get("technician_id") else None
        return roster_service.list_exceptions(get_session(), ids, args["first"], args["last"])

    @require_roles(*EDITORS)
    @blp.arguments(ExceptionCreateSchema)
    @blp.response(201, ExceptionSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Add leave, sick, training (whole or part of the day) or overtime for a day."""
        return roster_service.add_exception(get_session(), g.actor, args)


@blp.route("/exceptions/<int:exception_id>", methods=["DELETE"])
@require_roles(*EDITORS)
@blp.response(204)
@blp.doc(security=BEARER)
def exception_remove(exception_id: int):
    """Take an exception away."""
    roster_service.remove_exception(get_session(), g.actor, exception_id)


@blp.route("/technicians/<int:technician_id>/certifications")
class Certifications(MethodView):
    @require_roles(*READERS)
    @blp.response(200, CertificationSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, technician_id: int):
        """A technician's certificates."""
        return certifications.certifications(get_session(), technician_id)

    @require_roles(*EDITORS)
    @blp.arguments(CertificationCreateSchema)
    @blp.response(201, CertificationSchema)
    @blp.doc(security=BEARER)
    def post(self, args, technician_id: int):
        """Record or renew a certificate (valid up to and including its expiry date)."""
        return certifications.certify(get_session(), g.actor, technician_id, args)


@blp.route("/technicians/<int:technician_id>/certifications/<string(maxlength=30):skill>", methods=["DELETE"])
@require_roles(*EDITORS)
@blp.response(204)
@blp.doc(security=BEARER)
def certification_remove(technician_id: int, skill: str):
    """Remove a certificate and the skill from the technician's record."""
    certifications.revoke(get_session(), g.actor, technician_id, skill)


@blp.route("/certifications/expiring")
@require_roles(*READERS)
@blp.arguments(ExpiringQuerySchema, location="query")
@blp.response(200, ExpiringSchema(many=True))
@blp.doc(security=BEARER)
def expiring(args):
    """Certificates of active technicians expiring within ``within_days`` (default 30)."""
    today = now().date()
    found = certifications.expiring(get_session(), today, args["within_days"], args.get("team_id"))
    return [certifications.expiring_view(row, tech, today) for row, tech in found]


@blp.route("/week")
@require_roles(*READERS)
@blp.arguments(WeekQuerySchema, location="query")
@blp.response(200, WeekSchema)
@blp.doc(security=BEARER)
def week(args):
    """A team's week (every technician without ``team_id``): effective shifts, exceptions,
    on-call and certificates expiring within 30 days."""
    today = now().date()
    first = week_start(args.get("week") or today)
    return week_view(get_session(), args.get("team_id"), first, today)


@blp.route("/leave-requests")
@require_roles(*READERS)
@blp.arguments(LeaveQuerySchema, location="query")
@blp.response(200, LeaveRequestSchema(many=True))
@blp.doc(security=BEARER)
def leave_requests(args):
    """Leave requests from technicians' phones, newest first."""
    return leave.list_requests(get_session(), args.get("status"), args.get("technician_id"))


@blp.route("/leave-requests/<int:request_id>/decision", methods=["POST"])
@require_roles(*EDITORS)
@blp.arguments(LeaveDecisionSchema)
@blp.response(200, LeaveRequestSchema)
@blp.doc(security=BEARER)
def leave_decision(args, request_id: int):
    """Approve (the days become leave; planned days are marked for a re-plan) or reject."""
    return leave.decide(get_session(), g.actor, request_id, args["approve"], args.get("note"))
