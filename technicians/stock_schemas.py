"""Schemas of the van stock API (technicians.stock_views, the phone's van, close-out)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import CityDateTime, DbId

MAX_QUANTITY = 10_000
MAX_LINES = 50


class MoveLineSchema(Schema):
    """One item of a move: how many, and the serial of each unit of a serialised item."""

    item = fields.String(required=True, validate=validate.Length(1, 40))
    quantity = fields.Integer(
        validate=validate.Range(1, MAX_QUANTITY),
        metadata={
            "description": "Units (metres for cable); for a serialised item, optional: one per serial."
        },
    )
    serials = fields.List(
        fields.String(validate=validate.Length(1, 60)),
        load_default=list,
        validate=validate.Length(max=MAX_QUANTITY),
        metadata={"description": "Serial numbers (modems, routers, set-top boxes): one per unit."},
    )


class StockMoveRequestSchema(Schema):
    lines = fields.List(fields.Nested(MoveLineSchema), required=True, validate=validate.Length(1, MAX_LINES))
    depot_id = DbId(allow_none=True, metadata={"description": "The depot the items come from or go back to."})


class WriteOffRequestSchema(Schema):
    lines = fields.List(fields.Nested(MoveLineSchema), required=True, validate=validate.Length(1, MAX_LINES))
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class StockMoveSchema(Schema):
    id = fields.Integer()
    technician_id = fields.Integer()
    item = fields.String(attribute="item_code")
    kind = fields.String(metadata={"description": "issue, use (at a customer's order), return, write_off"})
    quantity = fields.Integer()
    signed_quantity = fields.Integer()
    balance_after = fields.Integer()
    serial = fields.String(allow_none=True)
    work_order_id = fields.Integer(allow_none=True)
    depot_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = CityDateTime()


class LedgerQuerySchema(Schema):
    technician_id = DbId()
    item = fields.String(validate=validate.Length(1, 40))
    serial = fields.String(validate=validate.Length(1, 60))
    work_order_id = DbId()
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class VanItemSchema(Schema):
    item = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    unit = fields.String()
    serialised = fields.Boolean()
    quantity = fields.Integer()
    serials = fields.List(fields.String())


class VanSchema(Schema):
    technician_id = fields.Integer()
    items = fields.List(fields.Nested(VanItemSchema))


class StockItemSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    unit = fields.String()
    serialised = fields.Boolean()
    van_max = fields.Integer()


class DepotCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 80))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class DepotSchema(DepotCreateSchema):
    id = fields.Integer()


class SerialQuerySchema(Schema):
    serial = fields.String(required=True, validate=validate.Length(1, 60))


class SerialTraceSchema(Schema):
    item = fields.String()
    serial = fields.String()
    status = fields.String(metadata={"description": "in_van, at_customer, at_depot, written_off"})
    technician_id = fields.Integer(allow_none=True)
    work_order_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True)
    customer_name = fields.String(allow_none=True)
    site_address = fields.String(allow_none=True)
    moves = fields.List(fields.Nested(StockMoveSchema))
