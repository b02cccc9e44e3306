"""Equipment and materials: the items catalogue and each job's bill of materials.

Pure data from ``standards/rules/materials.toml`` (see its header for the
decisions: what repairs plan, what close-out may record). The planner asks
:func:`bill_of_materials` for what a visit consumes; close-out asks
:func:`allowed_items` what a technician may record as used on an order.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standards.codes import FIELD_KINDS, PRODUCTS
from standards.tomlfile import KeyPath, RuleFileError, TomlReader, read_toml_file

DEFAULT_MATERIALS_FILE = Path(__file__).parent / "rules" / "materials.toml"
UNITS: tuple[str, ...] = ("pcs", "m")


@dataclass(frozen=True)
class Item:
    """One kind of equipment or material a van carries."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    serialised: bool
    van_max: int


@dataclass(frozen=True)
class BomEntry:
    """What one kind of job on one product plans (``items``) and may also use."""

    kind: str
    product: str
    items: dict[str, int]
    may_use: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Materials:
    """The items catalogue and the bills of materials, by (kind, product)."""

    version: str
    items: dict[str, Item]
    boms: dict[tuple[str, str], BomEntry] = field(default_factory=dict)

    def bom(self, kind: str, product: str) -> dict[str, int]:
        """Planned quantities per item code for a ``kind`` job on ``product`` (empty: none)."""
        entry = self.boms.get((kind, product))
        return dict(entry.items) if entry is not None else {}

    def allowed(self, kind: str, product: str) -> frozenset[str]:
        """Item codes close-out may record on such a job: its BOM and its ``may_use``."""
        entry = self.boms.get((kind, product))
        if entry is None:
            return frozenset()
        return frozenset(entry.items) | entry.may_use


def _parse_items(reader: TomlReader, raw: dict[str, Any]) -> dict[str, Item]:
    items: dict[str, Item] = {}
    table = reader.table(raw, (), "items")
    for code, spec in table.items():
        where: KeyPath = ("items", code)
        if not isinstance(spec, dict):
            reader.fail(where, f"items.{code} must be a table")
        reader.only_keys(spec, where, ("name_zh", "name_en", "unit", "serialised", "van_max"))
        items[code] = Item(
            code=code,
            name_zh=reader.text_value(spec, where, "name_zh"),
            name_en=reader.text_value(spec, where, "name_en"),
            unit=reader.text_value(spec, where, "unit", choices=UNITS),
            serialised=reader.boolean(spec, where, "serialised"),
            van_max=reader.number(spec, where, "van_max", minimum=0, integer=True),
        )
    return items


def _parse_boms(
    reader: TomlReader, raw: dict[str, Any], items: dict[str, Item]
) -> dict[tuple[str, str], BomEntry]:
    boms: dict[tuple[str, str], BomEntry] = {}
    entries = raw.get("bom", [])
    if not isinstance(entries, list):
        reader.fail(("bom",), "bom must be an array of tables ([[bom]])")
    for i, entry in enumerate(entries):
        where: KeyPath = ("bom", i)
        if not isinstance(entry, dict):
            reader.fail(where, "each [[bom]] must be a table")
        reader.only_keys(entry, where, ("kind", "products", "items", "may_use"))
        kind = reader.text_value(entry, where, "kind", choices=FIELD_KINDS)
        products = reader.code_list(entry, where, "products", PRODUCTS)
        quantities = reader.table(entry, where, "items")
        planned = {
            code: reader.number(quantities, where + ("items",), code, minimum=1, integer=True)
            for code in quantities
        }
        may_use = reader.code_list(entry, where, "may_use", tuple(items), default=[])
        for code in planned:
            if code not in items:
                reader.fail(where + ("items", code), f"unknown item {code!r}; known: {', '.join(items)}")
        for product in sorted(products):
            if (kind, product) in boms:
                reader.fail(where, f"a second bill of materials for {kind} {product}")
            boms[(kind, product)] = BomEntry(kind, product, planned, may_use)
    return boms


def parse_materials(path: Path, text: str, raw: dict[str, Any]) -> Materials:
    """Validate a parsed materials file; RuleFileError (file:line) on any problem."""
    reader = TomlReader(path, text)
    reader.only_keys(raw, (), ("version", "items", "bom"))
    items = _parse_items(reader, raw)
    return Materials(
        version=reader.text_value(raw, (), "version"), items=items, boms=_parse_boms(reader, raw, items)
    )


_cache: dict[str, tuple[tuple[int, int], Materials]] = {}
_cache_lock = threading.Lock()


def load_materials(path: str | Path | None = None) -> Materials:
    """Load, validate and cache the materials file (default: the shipped one, or
    ``STANDARDS_MATERIALS_FILE``); an edited file is read again."""
    if path is None:
        path = os.environ.get("STANDARDS_MATERIALS_FILE") or DEFAULT_MATERIALS_FILE
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise RuleFileError(resolved, 0, f"cannot read materials file: {exc}") from exc
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(str(resolved))
        if cached is not None and cached[0] == stamp:
            return cached[1]
    text, raw = read_toml_file(resolved)
    materials = parse_materials(resolved, text, raw)
    with _cache_lock:
        _cache[str(resolved)] = (stamp, materials)
    return materials


def bill_of_materials(kind: str, product: str, materials: Materials | None = None) -> dict[str, int]:
    """Item code -> quantity a ``kind`` job on ``product`` plans to consume."""
    return (materials or load_materials()).bom(kind, product)


def allowed_items(kind: str, product: str, materials: Materials | None = None) -> frozenset[str]:
    """Item codes close-out may record as used on a ``kind`` job on ``product``."""
    return (materials or load_materials()).allowed(kind, product)
