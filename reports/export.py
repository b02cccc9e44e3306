"""The report's tables as CSV or XLSX files, written row by row to a temporary file.

Rows come from the database in batches (``orders.stream_orders``) and go straight to the file:
CSV through the csv module, XLSX as its XML parts written into the zip as text, a batch of
rows at a time (see ``_write_sheet``). The caller sends the file and closes it.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

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
    out = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller closes it)
    sheets = [(sheet, [columns]), ("about", [["times", f"city time ({city_tz_name()})"]])]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSION) as package:
        for name, text in _xlsx_package_parts([name for name, _rows in sheets]):
            package.writestr(name, text)
        _write_sheet(package, "xl/worksheets/sheet1.xml", itertools.chain([columns], rows))
        _write_sheet(package, "xl/worksheets/sheet2.xml", sheets[1][1])
    out.seek(0)
    return out


# An XLSX file is a zip of XML parts. openpyxl's write-only mode builds an element per cell and
# took a minute for 100,000 orders; the sheets here are written as text, a batch of rows per
# write, straight into the zip entry, so the file costs one row batch of memory and seconds.
XLSX_COMPRESSION = 1  # fastest deflate: the sheets' repeated markup compresses well anyway
XLSX_ROWS_PER_WRITE = 500
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Style indexes in styles.xml's cellXfs: 1 a date and time, 2 a date (city wall-clock time).
_DATETIME_STYLE, _DATE_STYLE = 1, 2
# Characters XML 1.0 cannot carry; a spreadsheet cell drops them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _xlsx_package_parts(sheet_names: list[str]) -> list[tuple[str, str]]:
    """Every part but the sheets' data: content types, relationships, workbook, styles."""
    count = len(sheet_names)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    sheets = "".join(
        f'<sheet name="{escape(_sheet_name(name), {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheet_names, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return [
        (
            "[Content_Types].xml",
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{overrides}</Types>',
        ),
        (
            "_rels/.rels",
            f'{head}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            f'{head}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}"><sheets>{sheets}</sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{head}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}<Relationship Id="rId{count + 1}" '
            f'Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>',
        ),
        (
            "xl/styles.xml",
            f'{head}<styleSheet xmlns="{_NS}">'
            '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
            '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>",
        ),
    ]


def _sheet_name(name: str) -> str:
    return _SHEET_NAME_FORBIDDEN.sub("_", name)[:31] or "sheet"


def _write_sheet(package: zipfile.ZipFile, part: str, rows: Iterable[Sequence[Any]]) -> None:
    """One worksheet's XML, ``rows`` written as they come, a batch of rows per write. Cells
    follow each other without references (an empty ``<c/>`` holds a gap's place), as the format
    allows: a reader counts them."""
    with package.open(part, "w", force_zip64=True) as sheet:
        head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
        sheet.write(f"{head}<sheetData>".encode())
        pending: list[str] = []
        for number, row in enumerate(rows, start=1):
            cells = "".join([_CELL_WRITERS.get(type(value), _cell)(value) for value in row])
            pending.append(f'<row r="{number}">{cells}</row>')
            if len(pending) >= XLSX_ROWS_PER_WRITE:
                sheet.write("".join(pending).encode())
                pending.clear()
        sheet.write(("".join(pending) + "</sheetData></worksheet>").encode())


def _cell(value: Any) -> str:
    """One cell's XML: numbers as numbers, datetimes as Excel serial numbers in city
    wall-clock time with a date format, text inline, None an empty cell."""
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal) and math.isfinite(value):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = to_city_aware(value).replace(tzinfo=None)
        return f'<c s="{_DATETIME_STYLE}"><v>{(value - _EXCEL_EPOCH) / _DAY!r}</v></c>'
    if isinstance(value, date):
        return f'<c s="{_DATE_STYLE}"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
    return _text_cell(str(value))


def _text_cell(text: str) -> str:
    if not text.isprintable():  # rare: a newline is fine, a control character XML cannot carry is not
        text = _NOT_XML.sub("", text)
    text = escape(text)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _int_cell(value: int) -> str:
    return f"<c><v>{value}</v></c>"


def _naive_datetime_cell(value: datetime) -> str:
    return (
        _cell(value) if value.tzinfo is not None else f'<c s="1"><v>{(value - _EXCEL_EPOCH) / _DAY!r}</v></c>'
    )


_DAY = timedelta(days=1)
# The common cases by exact type, without the chain of isinstance tests (bool is not an int here).
_CELL_WRITERS = {
    str: _text_cell,
    int: _int_cell,
    datetime: _naive_datetime_cell,
    type(None): lambda _v: "<c/>",
}
