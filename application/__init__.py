"""The application: the app factory, the CLI, the RQ worker's entry point and the demo seed.

It is the one package that knows every other: it loads the rules, imports
every model (so the metadata and Alembic see all tables) and every package's
jobs (so ``core.jobs`` can run them), and registers every interface's
blueprint. ``wsgi.py`` and the worker build the app here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import get_locale

import standards
from application.demo import DISTRICTS
from core import babel, csrf, db, errors, geocoding, i18n, inputs, security, throttle, unit_of_work
from core.api import Api, DbIdConverter, db_id_schema
from core.auth import configure_hasher
from core.config import Config


def create_app(config: Config | None = None) -> Flask:
    """Build the application: extensions, blueprints, error handlers, CLI."""
    config = config or Config()
    app = Flask(
        __name__,
        instance_path=str(Path(config.PHOTO_DIR).parent),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(config.as_dict())
    app.config["API_SPEC_OPTIONS"] = {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "info": {
            "description": "Work orders, dispatch and the technician app. "
            "Errors are RFC 9457 problem details."
        },
    }
    configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])
    # Fail at start-up, naming file and line, if the rule file is malformed.
    standards.load_ruleset()
    i18n.compile_catalogs(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    babel.init_app(app, locale_selector=i18n.select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    csrf.init_app(app)
    db.init_app(app)
    geocoding.init_app(app, tables={"demo": DISTRICTS})
    _import_models()
    _import_jobs()
    _wire_domain()

    app.url_map.converters["int"] = DbIdConverter
    api = Api(app)
    api.register_converter(DbIdConverter, db_id_schema)
    _register_blueprints(app, api)
    from workorders.views import register_spec

    register_spec(api)
    errors.register(app)
    unit_of_work.init_app(app)  # after errors: its DomainError handler wins
    inputs.init_app(app)
    security.init_app(app)
    throttle.init_app(app)

    from application.cli import register as register_cli

    register_cli(app)
    return app


def _import_models() -> None:
    """Import every model module so the metadata (and Alembic) sees all tables."""
    import core.models  # noqa: F401
    import dispatch.models  # noqa: F401
    import dispatch.replan  # noqa: F401  (re-plan notices)
    import mobile_api.models  # noqa: F401
    import reports.facts  # noqa: F401  (one narrow row per order, what the reports read)
    import reports.indexes  # noqa: F401  (indexes on other packages' tables, for the reports)
    import technicians.models  # noqa: F401
    import technicians.roster  # noqa: F401  (teams, certificates, shifts, leave)
    import technicians.stock_models  # noqa: F401
    import workorders.models  # noqa: F401


def _import_jobs() -> None:
    """Each package's jobs module registers its handlers with core.jobs."""
    import dispatch.jobs  # noqa: F401
    import workorders.complaints  # noqa: F401  (escalate_complaints)
    import workorders.followup_jobs  # noqa: F401
    import workorders.notifications  # noqa: F401  (follow-up reminders; it imports the outbox's delivery)


def _wire_domain() -> None:
    """What a domain package uses from one it may not import: the live ETA (dispatch)
    for the order views (workorders); re-plan notices (dispatch) on roster changes
    (technicians); and the follow-up steps (workorders.followups,
    built on workorders.service) that an order's completion and follow-up run."""
    from dispatch.eta import eta_for
    from workorders import followups, reads, service

    reads.use_live_eta(eta_for)
    from dispatch.replan import mark_replan
    from technicians.shifts import use_roster_listener

    use_roster_listener(mark_replan)  # a roster change marks planned days for a re-plan
    service.use_followups(followups.on_completed, followups.on_followed_up)


def _register_blueprints(app: Flask, api: Api) -> None:
    import mobile_api.roster  # noqa: F401  (the phone's shifts and leave requests)
    import pages.booking  # noqa: F401  (the portal's slot page joins the web blueprint)
    import pages.followups  # noqa: F401  (the follow-up queue joins the web blueprint)
    import pages.intake  # noqa: F401  (the hotline intake page joins the web blueprint)
    import pages.report  # noqa: F401  (the fault report and comment pages join the web blueprint)
    import pages.roster  # noqa: F401  (the roster week page joins the web blueprint)
    from console.views import bp as console_bp
    from core.views import blp as auth_blp
    from dispatch.booking_views import blp as booking_blp
    from dispatch.disruption_views import blp as disruptions_blp
    from dispatch.replan_views import blp as replans_blp
    from dispatch.views import blp as dispatch_blp
    from mobile_api.views import blp as mobile_blp
    from mobile_api.views import staff_blp as photos_blp
    from pages.reports import bp as reports_page_bp
    from pages.views import bp as web_bp
    from reports.pages import bp as manager_page_bp
    from reports.views import blp as manager_reports_blp
    from technicians.roster_views import blp as roster_blp
    from technicians.stock_views import blp as stock_blp
    from technicians.views import blp as technicians_blp
    from workorders.company_views import blp as companies_blp
    from workorders.complaint_views import blp as complaints_blp
    from workorders.customer_views import blp as customers_blp
    from workorders.equipment_views import blp as equipment_blp
    from workorders.followup_views import blp as followups_blp
    from workorders.notification_views import blp as notifications_blp
    from workorders.report_views import blp as reports_blp
    from workorders.views import blp as workorders_blp

    for blueprint in (
        auth_blp,
        workorders_blp,
        customers_blp,
        companies_blp,
        followups_blp,
        complaints_blp,
        technicians_blp,
        roster_blp,
        dispatch_blp,
        disruptions_blp,
        booking_blp,
        replans_blp,
        mobile_blp,
        photos_blp,
        reports_blp,
        notifications_blp,
        manager_reports_blp,
        stock_blp,
        equipment_blp,
    ):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # JSON APIs authenticate by bearer token, not cookie
    app.register_blueprint(web_bp)
    app.register_blueprint(reports_page_bp)
    app.register_blueprint(manager_page_bp)
    app.register_blueprint(console_bp)  # session cookie: its POSTs are CSRF-checked
