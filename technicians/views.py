"""Technician endpoints for dispatchers and managers."""

from __future__ import annotations

from flask import g, jsonify
from flask.views import MethodView

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from technicians import service
from technicians.schemas import (
    TechnicianCreateSchema,
    TechnicianPublicSchema,
    TechnicianQuerySchema,
    TechnicianSchema,
)

blp = Blueprint("technicians", __name__, url_prefix="/api/v1", description="Technicians")


@blp.route("/technicians")
class Technicians(MethodView):
    @require_roles("dispatcher", "admin")
    @blp.arguments(TechnicianCreateSchema)
    @blp.response(201, TechnicianSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Register a technician."""
        session = get_session()
        tech = service.create_technician(session, g.actor, args)
        return tech

    @require_roles("dispatcher", "manager", "agent", "admin")
    @blp.arguments(TechnicianQuerySchema, location="query")
    @blp.response(200, TechnicianSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, args):
        """List technicians (agents see who and what skills, not phones or positions)."""
        return _for_role(service.list_technicians(get_session(), **args), many=True)


@blp.route("/technicians/<int:technician_id>")
@require_roles("dispatcher", "manager", "agent", "admin")
@blp.response(200, TechnicianSchema)
@blp.doc(security=BEARER)
def technician_detail(technician_id: int):
    """One technician (agents see who and what skills, not phones or positions)."""
    return _for_role(service.get_technician(get_session(), technician_id))


def _for_role(found, many: bool = False):
    """Dispatchers and managers plan with phones and positions; an agent taking
    a call needs only who works where with which skills."""
    if g.actor.role == "agent":
        return jsonify(TechnicianPublicSchema(many=many).dump(found))
    return found
