"""One unit of work per request: the one place a request's transaction ends.

A request gets one session (:func:`core.db.get_session`) and one transaction.
When the view has answered, a success (below 400) is committed and a refusal
or error rolled back. Services flush (for ids and version numbers) but never
commit. A refusal that must still leave a trace (the audit event of a failed
login, a plan marked refused) is raised with ``keep_changes=True`` or calls
:func:`keep_on_refusal`. Background jobs and CLI commands, which have no
request, commit where their own unit of work ends; so does a phone's offline
sync (``mobile_api.sync``), whose queued actions are units of work each.
"""

from __future__ import annotations

from flask import Flask, Response, g
from sqlalchemy.orm import Session

from core.errors import DomainError, domain_problem, response_for


def keep_on_refusal() -> None:
    """Keep what this request wrote so far even though it ends in a refusal."""
    g.db_keep_on_refusal = True


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _refused(exc: DomainError) -> Response:
        if exc.keep_changes:
            keep_on_refusal()
        return domain_problem(exc)

    @app.after_request
    def _end(response: Response) -> Response:
        session: Session | None = g.get("db_session")
        if session is None:
            return response
        if response.status_code >= 400 and not g.get("db_keep_on_refusal"):
            session.rollback()
            return response
        try:
            session.commit()
        except Exception as exc:  # the answer must not claim a change that was not kept
            session.rollback()
            return response_for(exc)
        return response
