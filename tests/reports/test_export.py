"""The XLSX export written as text: every kind of value comes back from a spreadsheet reader as it went in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from reports import export


def test_xlsx_cells_keep_their_types_columns_and_city_time():
    columns = ["id", "text", "flag", "ratio", "amount", "day", "at", "missing", "last"]
    aware = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)  # 18:00 in the city (+08:00)
    rows = [
        (
            1,
            "A&B <蜀山区>",
            True,
            0.25,
            Decimal("12.5"),
            date(2026, 10, 1),
            datetime(2026, 9, 30, 18, 0, 5),
            None,
            "x",
        ),
        (2, " spaced\x01 ", False, float("nan"), -3, None, aware, None, "y"),
    ]
    with export.write("xlsx", "orders: a/b", columns, iter(rows)) as out:
        book = load_workbook(out)
    assert book.sheetnames == ["orders_ a_b", "about"]
    header, first, second = book.worksheets[0].iter_rows(values_only=True)
    assert list(header) == columns
    assert first == (
        1,
        "A&B <蜀山区>",
        True,
        0.25,
        12.5,
        datetime(2026, 10, 1),
        datetime(2026, 9, 30, 18, 0, 5),
        None,
        "x",
    )
    assert second[:3] == (2, " spaced ", False) and second[3] == "nan" and second[4] == -3
    assert second[6] == datetime(2026, 9, 30, 18, 0) and second[8] == "y"  # no column shifted by the gaps
    assert book.worksheets[0]["G2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert book["about"]["A1"].value == "times"


def test_xlsx_export_streams_many_rows():
    start = datetime(2026, 1, 1)
    rows = ((i, f"H-{i:07d}", start + timedelta(minutes=i)) for i in range(3000))
    with export.write("xlsx", "orders", ["id", "code", "received_at"], rows) as out:
        sheet = load_workbook(out, read_only=True)["orders"]
        found = list(sheet.iter_rows(values_only=True))
    assert len(found) == 3001 and found[-1] == (2999, "H-0002999", start + timedelta(minutes=2999))
