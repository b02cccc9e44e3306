"""The report's tables as CSV or XLSX files, written row by row to a temporary file.

Rows come from the database in batches (``orders.stream_orders``) and go straight to the file:
CSV through the csv module, XLSX through openpyxl's write-only workbook (which keeps only the
current row in memory). The caller sends the file and closes it.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook

from core.clock import city_tz_name, to_city_aware

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SPOOL_BYTES = 4 * 1024 * 1024  # smaller files stay in memory, bigger ones go to disk


def figure_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Column names of the figures table: nested figures flattened as ``restore.median_s``."""
    for row in rows:
        return list(_flatten(row))
    return ["group", "label"]


def figure_rows(rows: Iterable[dict[str, Any]]) -> Iterator[tuple]:
    for row in rows:
        yield tuple(_flatten(row).values())


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def write(fmt: str, sheet: str, columns: list[str], rows: Iterable[tuple]) -> IO[bytes]:
    """A file (rewound, to be closed by the caller) holding ``columns`` then ``rows``.
    ValueError for an unknown format."""
    if fmt == "csv":
        return _write_csv(columns, rows)
    if fmt == "xlsx":
        return _write_xlsx(sheet, columns, rows)
    raise ValueError(f"unknown export format {fmt!r}")


def _write_csv(columns: list[str], rows: Iterable[tuple]) -> IO[bytes]:
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")  # the BOM lets Excel read Chinese
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    text.flush()
    text.detach()
    out.seek(0)
    return out


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_city_aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def _write_xlsx(sheet: str, columns: list[str], rows: Iterable[tuple]) -> IO[bytes]:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(columns)
    for row in rows:  # datetimes get a date-time format of their own (city wall-clock time)
        ws.append(row)
    notes = book.create_sheet("about")
    notes.append(["times", f"city time ({city_tz_name()})"])
    out = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller closes it)
    book.save(out)
    out.seek(0)
    return out
