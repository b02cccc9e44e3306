"""What the report endpoints take and answer (and what the OpenAPI spec says of them)."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from core.clock import now
from core.errors import N_
from core.schemas import CityDateTime, DbId, lang_query
from reports.export import FORMATS
from reports.filters import DIMENSIONS, ReportFilter
from reports.orders import FIGURES
from reports.utilisation import PERIODS as UTILISATION_PERIODS
from standards import KINDS, PRIORITIES, PRODUCTS, TIERS
from workorders.schemas import SOURCES

DEFAULT_DAYS = 30
MAX_RANGE = timedelta(days=3 * 366)
# Complaints are an order kind of their own (issue 14) whether or not the rules list them yet.
REPORT_KINDS = tuple(dict.fromkeys((*KINDS, "complaint")))
CHANNELS = SOURCES
# Reports cover the system's own era: far-off years are a typo (and before 1901 the
# city's zone had a local-mean-time offset no client parses).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 1, 1)


class ReportQuerySchema(Schema):
    """The range and filters every report endpoint takes."""

    date_from = fields.Date(
        data_key="from",
        metadata={"description": f"First city date of the range (default: {DEFAULT_DAYS} days before `to`)."},
    )
    date_to = fields.Date(
        data_key="to",
        metadata={"description": "The day after the range (exclusive; default: tomorrow, so today is in)."},
    )
    group_by = fields.String(
        validate=validate.OneOf(DIMENSIONS),
        metadata={"description": "One row per value of this dimension; absent: the totals only."},
    )
    district = fields.String(validate=validate.Length(1, 40))
    product = fields.String(validate=validate.OneOf(PRODUCTS))
    kind = fields.String(validate=validate.OneOf(REPORT_KINDS))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    tier = fields.String(validate=validate.OneOf(TIERS), metadata={"description": "Enterprise tier."})
    channel = fields.String(validate=validate.OneOf(CHANNELS), metadata={"description": "Intake channel."})
    technician_id = DbId()
    lang = lang_query()

    @validates_schema
    def _range(self, data: dict, **_kw) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        for key, day in (("from", start), ("to", end)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise ValidationError(N_("Reports cover the years 2000 to 2099."), key)
        if start and end and end <= start:
            raise ValidationError(N_("The range must end after it starts."), "to")
        if start and end and end - start > MAX_RANGE:
            raise ValidationError(N_("A report covers at most three years."), "from")

    @post_load
    def _filter(self, data: dict, **_kw) -> dict:
        end = data.pop("date_to", None) or (now().date() + timedelta(days=1))
        start = data.pop("date_from", None) or end - timedelta(days=DEFAULT_DAYS)
        if end <= start:
            raise ValidationError(N_("The range must end after it starts."), "from")
        if end - start > MAX_RANGE:
            raise ValidationError(N_("A report covers at most three years."), "from")
        report = {k: data.pop(k) for k in list(data) if k in ReportFilter.__dataclass_fields__}
        data["filter"] = ReportFilter(date_from=start, date_to=end, as_of=now(), **report)
        return data


class DrillDownQuerySchema(ReportQuerySchema):
    figure = fields.String(
        load_default="received",
        validate=validate.OneOf(FIGURES),
        metadata={"description": "Which figure's orders: e.g. restore_breached, repeated, followup_overdue."},
    )
    group = fields.String(
        metadata={
            "description": "With group_by: the row's `group` value, its orders only; `(none)` for the "
            "row whose value is empty (no technician, no tier)."
        },
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class ExportQuerySchema(ReportQuerySchema):
    table = fields.String(
        load_default="figures",
        validate=validate.OneOf(("figures", "orders")),
        metadata={"description": "figures: one row per group; orders: the orders behind `figure`."},
    )
    format = fields.String(load_default="csv", validate=validate.OneOf(tuple(FORMATS)))
    figure = fields.String(load_default="received", validate=validate.OneOf(FIGURES))
    group = fields.String()


class DurationSchema(Schema):
    n = fields.Integer(metadata={"description": "Orders measured."})
    mean_s = fields.Float(allow_none=True)
    median_s = fields.Float(allow_none=True)
    p90_s = fields.Float(allow_none=True)


class ClockSchema(DurationSchema):
    met = fields.Integer()
    breached = fields.Integer(metadata={"description": "Late, or still open past the deadline."})
    compliance_pct = fields.Float(allow_none=True)


class OnSiteSchema(DurationSchema):
    planned_mean_s = fields.Float(
        allow_none=True, metadata={"description": "The planner's mean on-site duration for the same orders."}
    )


class ComplianceSchema(Schema):
    met = fields.Integer()
    breached = fields.Integer()
    compliance_pct = fields.Float(allow_none=True)


class FirstTimeFixSchema(Schema):
    completed = fields.Integer()
    first_time = fields.Integer(metadata={"description": "Completed without ever needing a revisit."})
    pct = fields.Float(allow_none=True)


class RepeatSchema(Schema):
    completed_repairs = fields.Integer()
    repeated_within_30d = fields.Integer(
        metadata={"description": "Followed by another repair at the same site or line within 30 days."}
    )
    pct = fields.Float(allow_none=True)
    flagged_repeats = fields.Integer(metadata={"description": "Repairs opened as repeat faults."})


class FollowUpsSchema(Schema):
    total = fields.Integer()
    done_on_time = fields.Integer()
    done_late = fields.Integer()
    overdue = fields.Integer()
    on_time_pct = fields.Float(allow_none=True)
    rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True, metadata={"description": "1 to 5."})
    satisfied_pct = fields.Float(allow_none=True, metadata={"description": "Share of ratings of 4 or 5."})


class ComplaintsSchema(Schema):
    total = fields.Integer()
    answer = fields.Nested(ComplianceSchema, metadata={"description": "Answered within 24 h."})
    handling = fields.Nested(ComplianceSchema, metadata={"description": "First handling within 72 h."})
    final = fields.Nested(ComplianceSchema, metadata={"description": "Final answer within 3 working days."})


class BacklogSchema(Schema):
    total = fields.Integer()
    under_1d = fields.Integer()
    _1_to_3d = fields.Integer(data_key="1_to_3d", attribute="1_to_3d")
    _3_to_7d = fields.Integer(data_key="3_to_7d", attribute="3_to_7d")
    _7_to_30d = fields.Integer(data_key="7_to_30d", attribute="7_to_30d")
    over_30d = fields.Integer()


class FiguresSchema(Schema):
    received = fields.Integer()
    completed = fields.Integer()
    cancelled = fields.Integer()
    response = fields.Nested(ClockSchema)
    restore = fields.Nested(ClockSchema, metadata={"description": "Repairs; customer pauses left out."})
    install = fields.Nested(DurationSchema, metadata={"description": "Installs, received to completed."})
    on_site = fields.Nested(
        OnSiteSchema, metadata={"description": "Arrival to completion against the planned duration."}
    )
    first_time_fix = fields.Nested(FirstTimeFixSchema)
    repeat_faults = fields.Nested(RepeatSchema)
    follow_ups = fields.Nested(FollowUpsSchema)
    complaints = fields.Nested(ComplaintsSchema)
    backlog = fields.Nested(BacklogSchema, metadata={"description": "Open at `judged_at`, by age."})


class FiguresRowSchema(FiguresSchema):
    group = fields.String(allow_none=True)
    label = fields.String(allow_none=True)


class ReportSchema(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    judged_at = CityDateTime(metadata={"description": "Open orders are judged at this time."})
    group_by = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(FiguresRowSchema))
    totals = fields.Nested(FiguresSchema)


class ReportOrderSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    product = fields.String()
    priority = fields.String()
    channel = fields.String()
    state = fields.String()
    district = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    technician_id = fields.Integer(allow_none=True)
    is_repeat_fault = fields.Boolean()
    received_at = CityDateTime()
    responded_at = CityDateTime(allow_none=True)
    completed_at = CityDateTime(allow_none=True)
    response_deadline = CityDateTime(allow_none=True)
    restore_deadline = CityDateTime(allow_none=True)
    links = fields.Dict(metadata={"description": "The order in the API (`api`) and its page (`page`)."})


class DrillDownSchema(Schema):
    figure = fields.String()
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    orders = fields.List(fields.Nested(ReportOrderSchema))


# ------------------------------------------------------------ utilisation and on-site durations


class UtilisationQuerySchema(ReportQuerySchema):
    period = fields.String(
        load_default="range",
        validate=validate.OneOf(UTILISATION_PERIODS),
        metadata={
            "description": "range: one row per technician; day or week: one per technician and period."
        },
    )


class UtilisationExportQuerySchema(UtilisationQuerySchema):
    table = fields.String(
        load_default="utilisation",
        validate=validate.OneOf(("utilisation", "durations")),
        metadata={"description": "utilisation: per technician; durations: on-site time by product."},
    )
    format = fields.String(load_default="csv", validate=validate.OneOf(tuple(FORMATS)))


class PlannedTimeSchema(Schema):
    stops = fields.Integer(metadata={"description": "Stops in the applied plans."})
    work_s = fields.Float(metadata={"description": "Planned time on site."})
    travel_s = fields.Float(metadata={"description": "Planned travel, the way home included."})
    idle_s = fields.Float(metadata={"description": "Available time left over."})
    utilisation_pct = fields.Float(allow_none=True, metadata={"description": "Work over available time."})


class ActualTimeSchema(Schema):
    visits = fields.Integer(metadata={"description": "Arrivals on site."})
    work_s = fields.Float(metadata={"description": "On site, from arrival to the visit's end, pauses out."})
    travel_s = fields.Float(metadata={"description": "En route to arrival."})
    waiting_s = fields.Float(metadata={"description": "Paused on site (customer absent, site closed, ...)."})
    idle_s = fields.Float(metadata={"description": "Available time with none of the above."})
    overtime_s = fields.Float(metadata={"description": "Work, travel and waiting beyond the available time."})
    utilisation_pct = fields.Float(allow_none=True)


class UtilisationFiguresSchema(Schema):
    days = fields.Integer(metadata={"description": "Technician-days with a planned route or a visit."})
    available_s = fields.Float(metadata={"description": "Shift time less lunch over those days."})
    planned = fields.Nested(PlannedTimeSchema, metadata={"description": "From the applied dispatch plans."})
    actual = fields.Nested(ActualTimeSchema, metadata={"description": "From the recorded status changes."})


class UtilisationRowSchema(UtilisationFiguresSchema):
    technician_id = fields.Integer()
    technician = fields.String()
    period = fields.String(allow_none=True, metadata={"description": "The day, or the week's Monday."})


class UtilisationSchema(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    judged_at = CityDateTime(metadata={"description": "Visits still under way count up to this time."})
    period = fields.String()
    rows = fields.List(fields.Nested(UtilisationRowSchema))
    totals = fields.Nested(UtilisationFiguresSchema)


class DurationRowSchema(Schema):
    product = fields.String()
    completed = fields.Integer(metadata={"description": "Installs and repairs completed (completed_work)."})
    measured = fields.Integer(metadata={"description": "Of them, with an arrival time."})
    paused_s = fields.Float(metadata={"description": "Recorded pauses on site, left out of the actual time."})
    planned_mean_s = fields.Float(allow_none=True, metadata={"description": "The planner's duration."})
    planned_median_s = fields.Float(allow_none=True)
    actual_mean_s = fields.Float(allow_none=True)
    actual_median_s = fields.Float(allow_none=True)
    actual_p90_s = fields.Float(allow_none=True)
    deviation_pct = fields.Float(allow_none=True, metadata={"description": "Actual median against planned."})
    flag = fields.String(
        allow_none=True,
        metadata={"description": "longer or shorter: the duration table is off by more than the tolerance."},
    )


class DurationsSchema(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    judged_at = CityDateTime()
    tolerance_pct = fields.Float()
    min_sample = fields.Integer(metadata={"description": "Fewer measured orders are never flagged."})
    rows = fields.List(fields.Nested(DurationRowSchema))
