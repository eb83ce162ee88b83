"""The documents a subscriber is given, as PDF: the corrected bill, the duplicate of a bill
(صورت‌حساب المثنی), the clearance certificate (مفاصاحساب) of a removal and the papers the
services defined as data issue (backend.services.documents), in the reader's language.

Persian is shaped by HarfBuzz (fpdf2's text shaping, with uharfbuzz) in Vazirmatn, shipped in
channels/fonts/ with its licence (SIL OFL 1.1): real text, joined and in the right order, that a
reader can search and copy, not a picture of it. Each label and each value is a cell of its own,
so a code or a number is never reordered by the words around it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from backend.my_bill import DuplicateBill
from backend.outcomes import Clearance, CorrectedBill
from backend.services.documents import ServiceCertificate
from backend.settings import local_zone
from locales.values import Code, Digits, Markup, Msg, Rials, format_value, render, tehran_date

FONTS_DIR = Path(__file__).parent / "fonts"
FONT = "Vazirmatn"
CONTENT_TYPE = "application/pdf"
# Codes need no bidi isolates here (a cell holds one value), and the font has no glyph for them.
PDF_MARKUP = Markup(escape=lambda text: text, code=lambda text: text)
RTL_LOCALES = frozenset({"fa"})


@dataclass(frozen=True)
class Sheet:
    """A one-page document: a title, rows of label and value, notes under them."""

    title: Msg
    rows: Sequence[tuple[Msg, Any]]  # a value is what a message parameter may be
    notes: Sequence[Msg]
    # The document's own moment: its creation date too, so the same facts give the same bytes
    # (stored once: file storage is content-addressed).
    issued: datetime


def corrected_bill_name(tracking_code: str) -> str:
    return f"corrected-bill-{tracking_code}.pdf"


def clearance_name(tracking_code: str) -> str:
    return f"clearance-{tracking_code}.pdf"


def service_paper_name(paper: ServiceCertificate) -> str:
    return f"{paper.paper.replace('_', '-')}-{paper.tracking_code}.pdf"


def duplicate_bill_name(bill: DuplicateBill) -> str:
    return f"bill-{bill.bill_id}-{bill.jalali_year}-{bill.period:02d}.pdf"


def _bill_rows(
    bill: CorrectedBill | DuplicateBill, payment_id: Code | Msg
) -> list[tuple[Msg, Any]]:
    """What every bill paper states first: whose bill, its IDs, its period and consumption."""
    period = {
        "start": bill.period_start,
        "end": bill.period_end,
        "period": bill.period,
        "year": Digits(bill.jalali_year),
    }
    return [
        (Msg("paper.name"), bill.customer_name),
        (Msg("paper.address"), bill.address),
        (Msg("paper.bill_id"), Code(bill.bill_id)),
        (Msg("paper.payment_id"), payment_id),
        (Msg("paper.period"), Msg("paper.period_value", period)),
        (Msg("paper.consumption"), Msg("paper.kwh", {"kwh": bill.consumption_kwh})),
    ]


def duplicate_bill_pdf(bill: DuplicateBill, locale: str) -> bytes:
    """A duplicate of a bill as it was issued (صورت‌حساب المثنی), and whether it is paid."""
    paid = bill.paid_on is not None
    rows = _bill_rows(bill, Code(bill.payment_id))
    rows += [
        (
            Msg("paper.readings"),
            Msg(
                "paper.readings_value",
                {"previous": bill.previous_reading, "current": bill.current_reading},
            ),
        ),
        (Msg("paper.amount"), Msg("paper.rials", {"amount": Rials(bill.amount_rials)})),
        (Msg("paper.due_date"), bill.due_date),
        (
            Msg("paper.bill_status"),
            Msg("paper.paid_on", {"date": bill.paid_on}) if paid else Msg("paper.unpaid"),
        ),
    ]
    notes = [Msg("paper.duplicate_states")]
    if bill.estimated:
        notes.append(Msg("paper.estimated_reading"))
    if not paid:
        notes.append(Msg("paper.corrected_bill_pay"))
    issued = datetime.combine(bill.period_end, time(), tzinfo=local_zone())
    return render_sheet(Sheet(Msg("paper.duplicate_title"), rows, notes, issued), locale)


def corrected_bill_pdf(bill: CorrectedBill, locale: str) -> bytes:
    """The corrected bill (صورت‌حساب اصلاح‌شده) that replaces the disputed one."""
    due = bill.corrected_rials > 0
    rows = _bill_rows(bill, Code(bill.payment_id) if due else Msg("paper.nothing_due"))
    rows += [
        (Msg("paper.original_amount"), Msg("paper.rials", {"amount": Rials(bill.original_rials)})),
        (
            Msg("paper.corrected_amount"),
            Msg("paper.rials", {"amount": Rials(bill.corrected_rials)}),
        ),
        (Msg("paper.issued"), tehran_date(bill.issued_at)),
        (Msg("paper.tracking_code"), Code(bill.tracking_code)),
    ]
    notes = [Msg("paper.corrected_bill_replaces")]
    notes.append(Msg("paper.corrected_bill_pay" if due else "paper.corrected_bill_nothing_due"))
    sheet = Sheet(Msg("paper.corrected_bill_title"), rows, notes, issued=bill.issued_at)
    return render_sheet(sheet, locale)


def clearance_pdf(clearance: Clearance, locale: str) -> bytes:
    """The clearance certificate of a removal carried out and settled, with the code staff
    verify it by (`/verify TRACKING-CODE CODE`)."""
    statement = clearance.statement_rials
    if statement > 0:
        settled = Msg("paper.settled_debt", {"amount": Rials(statement)})
    elif statement < 0:
        settled = Msg("paper.settled_credit", {"amount": Rials(-statement)})
    else:
        settled = Msg("paper.settled_even")
    rows: list[tuple[Msg, Any]] = [
        (Msg("paper.name"), clearance.customer_name),
        (Msg("paper.bill_id"), Code(clearance.bill_id)),
        (Msg("paper.address"), clearance.address),
        (Msg("paper.final_reading"), Digits(clearance.final_reading)),
        (Msg("paper.settled_amount"), settled),
        (Msg("paper.closed_on"), clearance.closed_on),
        (Msg("paper.tracking_code"), Code(clearance.tracking_code)),
        (Msg("paper.seal"), Code(clearance.seal)),
    ]
    notes = [Msg("paper.clearance_states"), Msg("paper.clearance_verify")]
    issued = datetime.combine(clearance.closed_on, time(), tzinfo=local_zone())
    return render_sheet(Sheet(Msg("paper.clearance_title"), rows, notes, issued), locale)


def service_paper_pdf(paper: ServiceCertificate, locale: str) -> bytes:
    """A paper a defined service issued: a subscription's clearance certificate, numbered by
    staff, stating that nothing is owed on it."""
    settled = (
        Msg("paper.settled_debt", {"amount": Rials(paper.settled_rials)})
        if paper.settled_rials
        else Msg("paper.no_debt")
    )
    rows: list[tuple[Msg, Any]] = [
        (Msg("paper.name"), paper.customer_name),
        (Msg("paper.bill_id"), Code(paper.bill_id)),
        (Msg("paper.address"), paper.address),
        (Msg("paper.settled_amount"), settled),
        (Msg("paper.certificate_number"), paper.number),
        (Msg("paper.issued"), tehran_date(paper.issued_at)),
        (Msg("paper.tracking_code"), Code(paper.tracking_code)),
    ]
    notes = [Msg(f"paper.{paper.paper}_states")]
    sheet = Sheet(Msg(f"paper.{paper.paper}_title"), rows, notes, issued=paper.issued_at)
    return render_sheet(sheet, locale)


def render_sheet(sheet: Sheet, locale: str) -> bytes:
    """The sheet as a one-page A4 PDF in `locale`: right to left in Persian."""
    # fpdf2 and HarfBuzz take most of a second to import: only the processes that make a
    # document pay for it.
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    rtl = locale in RTL_LOCALES
    align = "RIGHT" if rtl else "LEFT"
    pdf = FPDF(format="A4")
    pdf.set_creation_date(sheet.issued)
    pdf.set_lang(locale)
    pdf.set_title(_text(sheet.title, locale))
    pdf.add_font(FONT, "", FONTS_DIR / "Vazirmatn-Regular.ttf")
    pdf.add_font(FONT, "B", FONTS_DIR / "Vazirmatn-Bold.ttf")
    pdf.set_text_shaping(True)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 7, _text(Msg("paper.company"), locale), align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 14, _text(sheet.title, locale), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "", 11)
    label_style = FontFace(emphasis="BOLD")
    widths = (64, 36) if rtl else (36, 64)
    with pdf.table(
        col_widths=widths,
        text_align=align,
        first_row_as_headings=False,
        line_height=8,
        padding=(1, 2),
    ) as table:
        for label, value in sheet.rows:
            row = table.row()
            value_cell = (format_value(value, locale, PDF_MARKUP), None)
            label_cell = (_text(label, locale), label_style)
            for text, style in (value_cell, label_cell) if rtl else (label_cell, value_cell):
                row.cell(text, style=style)
    pdf.ln(5)
    for note in sheet.notes:
        pdf.multi_cell(0, 7, _text(note, locale), align=align, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _text(message: Msg, locale: str) -> str:
    return render(message, locale, PDF_MARKUP)
