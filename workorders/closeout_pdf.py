"""The close-out report as a PDF, in the reader's language with CJK glyphs embedded.

Rendered with fpdf2 and a font that covers Chinese (``REPORT_FONT``, by default
Debian's Noto Sans CJK, whose Simplified Chinese face is number 2 in the
collection). Photos are embedded from the evidence store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from core.errors import N_, Message, Unavailable
from workorders.closeout import CloseoutReport

DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEFAULT_FONT_INDEX = 2  # Noto Sans CJK SC in the collection
PHOTO_WIDTH_MM = 60


def _t(msgid: str, **params: object) -> str:
    return Message(msgid, **params).render()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def render_pdf(
    report: CloseoutReport,
    photo_file: Callable[[str], Path],
    font: str = DEFAULT_FONT,
    font_index: int = DEFAULT_FONT_INDEX,
) -> bytes:
    """The report as PDF bytes; ``photo_file`` maps a photo's stored path to its file."""
    if not Path(font).is_file():
        raise Unavailable(N_("The report font is not installed on the server."), retry_after_s=3600)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", fname=font, collection_font_number=font_index)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, _t(N_("Close-out report %(code)s"), code=report.code), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    _facts(pdf, report)
    _times(pdf, report)
    _checklist(pdf, report)
    _photos(pdf, report, photo_file)
    return bytes(pdf.output())


def _line(pdf: FPDF, label: str, value: str) -> None:
    pdf.cell(40, 7, label)
    pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)


def _facts(pdf: FPDF, report: CloseoutReport) -> None:
    _line(pdf, _t(N_("Order")), f"{report.kind} · {report.product} · {report.priority}")
    _line(pdf, _t(N_("Customer")), report.customer)
    _line(pdf, _t(N_("Address")), report.address)
    if report.line:
        _line(pdf, _t(N_("Line")), report.line)
    _line(pdf, _t(N_("Technician")), report.technician or "—")
    _line(pdf, _t(N_("Received")), _when(report.received_at))
    if report.followup:
        _line(pdf, _t(N_("Follow-up")), report.followup)


def _times(pdf: FPDF, report: CloseoutReport) -> None:
    _heading(pdf, _t(N_("Times against the promise")))
    for row in report.times:
        if row.promised is None:
            verdict = ""
        elif row.late_min is None:
            verdict = ""
        elif row.late_min == 0:
            verdict = _t(N_("on time"))
        else:
            verdict = _t(N_("%(minutes)s min late"), minutes=row.late_min)
        promised = _t(N_("promised %(when)s"), when=_when(row.promised)) if row.promised else ""
        _line(pdf, row.what, "  ".join(part for part in (_when(row.actual), promised, verdict) if part))


def _checklist(pdf: FPDF, report: CloseoutReport) -> None:
    if not report.checklist:
        return
    _heading(pdf, _t(N_("Checklist and measurements")))
    for row in report.checklist:
        mark = "" if row.ok is None else (_t(N_("within limits")) if row.ok else _t(N_("out of limits")))
        limits = _t(N_("limit %(limits)s"), limits=row.limits) if row.limits else ""
        pdf.multi_cell(
            0,
            6,
            "  ".join(p for p in (row.label, row.answer, limits, mark) if p),
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _photos(pdf: FPDF, report: CloseoutReport, photo_file: Callable[[str], Path]) -> None:
    if not report.photos:
        return
    _heading(pdf, _t(N_("Photos")))
    for photo in report.photos:
        path = photo_file(photo.stored_path)
        if not path.is_file():
            continue
        height = PHOTO_WIDTH_MM * photo.height / max(photo.width, 1)
        if pdf.get_y() + height + 8 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.cell(0, 6, f"{photo.item_id} · {_when(photo.taken_at)}", new_x="LMARGIN", new_y="NEXT")
        pdf.image(str(path), w=PHOTO_WIDTH_MM)
        pdf.ln(2)
