"""Order intake checks: is this order technically and practically possible?

Install orders get the full technical code (R1, R2, product/access fit, line
record present). Repair and follow-up orders concern a service that already
exists, so the same findings are only warnings there: refusing a repair because
the old line record is odd would leave the customer without service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from standards.codes import ACCESS_TYPES, FIELD_KINDS, KINDS, PRIORITIES, PRODUCTS, TIERS
from standards.findings import Finding, Severity, make_finding
from standards.rules import load_ruleset
from standards.ruleset import ProductRule, RuleSet


@dataclass
class OrderFacts:
    """What intake needs to know about an order. Datetimes are naive city time."""

    kind: str
    product: str
    priority: str
    lat: float | None
    lon: float | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    customer_tier: str | None = None  # None for residential customers


@dataclass
class LineFacts:
    """The customer's line from the network resource system."""

    access_type: str
    route_length_m: float | None
    switch_id: str | None
    switch_occupancy_pct: float | None
    uplink_raised: bool = False


def _require_naive(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is not None:
        raise ValueError(f"{name} must be a naive local (city) datetime, got {value!r}")


def _when(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="minutes") if value is not None else None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bad_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    return not math.isfinite(value)


def validate_intake(order: OrderFacts, line: LineFacts | None, rules: RuleSet | None = None) -> list[Finding]:
    """Check an order at intake and return every finding (empty list: all good).

    Blocking findings on an install: unknown codes, product/access mismatch,
    missing line record for a product that needs one, R1 route length over the
    limit for IPTV over ADSL, R2 switch occupancy at or over the limit for IPTV
    over LAN (unless the uplink was raised), missing or out-of-area coordinates,
    a bad appointment window. On repair and follow-up orders the technical
    findings are warnings; a complaint gets only the code checks. Raises
    ValueError for timezone-aware datetimes.
    """
    rules = rules or load_ruleset()
    _require_naive("appointment_start", order.appointment_start)
    _require_naive("appointment_end", order.appointment_end)
    findings: list[Finding] = []

    findings += _check_codes(order, rules)
    if order.kind not in FIELD_KINDS:
        # A complaint is answered by the service center: no visit, so no coordinates,
        # appointment window or line to check; its codes are all intake asks.
        return findings
    product = rules.products.get(order.product)
    technical: Severity = "block" if order.kind == "install" else "warn"

    findings += _check_coords(order, rules)
    findings += _check_window(order, product, rules)
    if product is not None and order.kind in KINDS:
        if product.segment == "enterprise" and order.customer_tier is None:
            findings.append(
                make_finding(rules, "ORDER_TIER", "ORDER_TIER_MISSING", "warn", {"product": product.code})
            )
        findings += _check_line(order, product, line, technical, rules)
    return findings


def _check_codes(order: OrderFacts, rules: RuleSet) -> list[Finding]:
    findings = []
    for field_name, value, allowed in (
        ("kind", order.kind, KINDS),
        ("product", order.product, PRODUCTS),
        ("priority", order.priority, PRIORITIES),
        ("customer_tier", order.customer_tier, TIERS + (None,)),
    ):
        if value not in allowed:
            findings.append(
                make_finding(
                    rules,
                    "ORDER_CODE",
                    "ORDER_CODE",
                    "block",
                    {
                        "field": field_name,
                        "value": str(value),
                        "allowed": [a for a in allowed if a is not None],
                    },
                )
            )
    return findings


def _check_coords(order: OrderFacts, rules: RuleSet) -> list[Finding]:
    lat, lon = order.lat, order.lon
    if lat is None or lon is None:
        return [
            make_finding(rules, "ORDER_COORDS", "ORDER_COORDS_MISSING", "block", {"lat": lat, "lon": lon})
        ]
    area = rules.intake
    params = {
        "lat": lat if _is_number(lat) else str(lat),
        "lon": lon if _is_number(lon) else str(lon),
        "lat_min": area.lat_min,
        "lat_max": area.lat_max,
        "lon_min": area.lon_min,
        "lon_max": area.lon_max,
    }
    if _bad_number(lat) or _bad_number(lon):
        params["lat"], params["lon"] = str(lat), str(lon)  # NaN is not JSON
        return [make_finding(rules, "ORDER_COORDS", "ORDER_COORDS_RANGE", "block", params)]
    if not (area.lat_min <= lat <= area.lat_max and area.lon_min <= lon <= area.lon_max):
        return [make_finding(rules, "ORDER_COORDS", "ORDER_COORDS_RANGE", "block", params)]
    return []


def _check_window(order: OrderFacts, product: ProductRule | None, rules: RuleSet) -> list[Finding]:
    start, end = order.appointment_start, order.appointment_end
    if start is None and end is None:
        return []  # not booked yet; scheduling will ask for it
    iso = {"start": _when(start), "end": _when(end)}
    if start is None or end is None:
        return [make_finding(rules, "ORDER_WINDOW", "ORDER_WINDOW_INCOMPLETE", "block", iso)]
    if start >= end:
        return [make_finding(rules, "ORDER_WINDOW", "ORDER_WINDOW_ORDER", "block", iso)]
    enterprise = order.customer_tier is not None or (product is not None and product.segment == "enterprise")
    if enterprise and rules.intake.enterprise_24x7:
        return []
    open_at, close_at = rules.intake.residential_start, rules.intake.residential_end
    inside = start.date() == end.date() and start.time() >= open_at and end.time() <= close_at
    if inside:
        return []
    params = {
        **iso,
        "hours_start": open_at.strftime("%H:%M"),
        "hours_end": close_at.strftime("%H:%M"),
    }
    return [make_finding(rules, "ORDER_WINDOW", "ORDER_WINDOW_HOURS", "block", params)]


def _check_line(
    order: OrderFacts,
    product: ProductRule,
    line: LineFacts | None,
    technical: Severity,
    rules: RuleSet,
) -> list[Finding]:
    if product.access is None:
        return []  # circuits and applications have no access line to check
    base = {"product": product.code, "kind": order.kind}
    if line is None:
        if order.kind == "install" and product.segment == "residential":
            return [make_finding(rules, "ORDER_LINE", "ORDER_LINE_MISSING", "block", base)]
        if order.kind == "follow_up":
            return []
        return [make_finding(rules, "ORDER_LINE", "ORDER_LINE_MISSING_WARN", "warn", base)]

    findings: list[Finding] = []
    if line.access_type not in ACCESS_TYPES or line.access_type != product.access:
        findings.append(
            make_finding(
                rules,
                "ORDER_PRODUCT_ACCESS",
                "ORDER_PRODUCT_ACCESS",
                technical,
                {
                    "product": product.code,
                    "access_type": str(line.access_type),
                    "expected_access": product.access,
                },
            )
        )
        return findings  # R1/R2 on the wrong kind of line would only add noise
    if not product.iptv:
        return findings
    if product.access == "adsl":
        findings += _check_r1(product, line, technical, rules)
    else:
        findings += _check_r2(product, line, technical, rules)
    return findings


def _line_data_finding(rules: RuleSet, field_name: str, value: object) -> Finding:
    return make_finding(
        rules, "ORDER_LINE", "ORDER_LINE_DATA", "block", {"field": field_name, "value": str(value)}
    )


def _check_r1(product: ProductRule, line: LineFacts, technical: Severity, rules: RuleSet) -> list[Finding]:
    limit_m = rules.intake.iptv_adsl_max_route_m
    length_m = line.route_length_m
    params = {"product": product.code, "access_type": "adsl"}
    if length_m is None:
        severity: Severity = rules.intake.unknown_route_length_severity if technical == "block" else "warn"
        return [make_finding(rules, "R1", "R1_UNKNOWN", severity, params, unit="m", limit=limit_m)]
    if _bad_number(length_m) or length_m < 0:
        return [_line_data_finding(rules, "route_length_m", length_m)]
    if length_m > limit_m:
        return [
            make_finding(
                rules,
                "R1",
                "R1",
                technical,
                params,
                measured=float(length_m),
                unit="m",
                limit=limit_m,
            )
        ]
    return []


def _check_r2(product: ProductRule, line: LineFacts, technical: Severity, rules: RuleSet) -> list[Finding]:
    limit_pct = rules.intake.lan_switch_occupancy_limit_pct
    occupancy = line.switch_occupancy_pct
    params = {
        "product": product.code,
        "switch_id": line.switch_id or "-",
        "uplink_raised": line.uplink_raised,
    }
    findings: list[Finding] = []
    if not line.switch_id:
        findings.append(make_finding(rules, "R2", "R2_SWITCH_UNKNOWN", "warn", {"product": product.code}))
    if line.uplink_raised:
        return findings  # the uplink was raised for this switch: occupancy no longer limits
    if occupancy is None:
        severity: Severity = (
            rules.intake.unknown_switch_occupancy_severity if technical == "block" else "warn"
        )
        params.pop("uplink_raised")
        findings.append(make_finding(rules, "R2", "R2_UNKNOWN", severity, params, unit="%", limit=limit_pct))
        return findings
    if _bad_number(occupancy) or not 0 <= occupancy <= 100:
        findings.append(_line_data_finding(rules, "switch_occupancy_pct", occupancy))
        return findings
    if occupancy >= limit_pct:
        findings.append(
            make_finding(
                rules,
                "R2",
                "R2",
                technical,
                params,
                measured=float(occupancy),
                unit="%",
                limit=limit_pct,
            )
        )
    return findings
