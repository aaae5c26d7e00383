"""A compiled summary as an XLSX workbook (the columns a Front office sends up) and as a DOCX
report (the document itself, as the print view).

Built from the compiled items; the sources are named by their receiving units. The raisers'
names and contacts are added (one sheet of sources) only when `personal` is asked for by a
caller whose role allows it — the route checks that before calling.
"""
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from app.accounts.principal import Principal
from app.core.i18n import _
from app.core.spreadsheet import safe_row
from app.petitions import service as svc
from app.petitions.models import PetitionSession, PetitionSummary
from app.units.models import Unit

HEADER = ["STT", "Lĩnh vực", "Gửi tới", "Cơ quan cụ thể", "Nội dung kiến nghị", "Nguồn (đơn vị)",
          "Số kiến nghị gộp", "Tình trạng", "Hạn trả lời", "Ngày trả lời", "Số văn bản trả lời", "Nội dung trả lời"]
SOURCE_HEADER = ["Mục", "Đơn vị tiếp nhận", "Ngày", "Người/nhóm nêu", "Liên hệ", "Nội dung gốc"]


def summary_xlsx(session: Session, summary: PetitionSummary, unit: Unit, *, personal: bool,
                 principal: Principal) -> bytes:
    psession = session.get(PetitionSession, summary.session_id)
    fields = {f.id: f.name for f in svc.fields_of(session, active_only=False)}
    items = svc.items_of(session, summary)
    sources = svc.sources_of(session, [i.id for i in items])
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    ws.append(safe_row([f"Số {summary.number}: {summary.title}"]))
    ws.append(safe_row([f"{psession.name} · {unit.name}"]))
    ws["A1"].font = Font(bold=True)
    ws.append(HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for it in items:
        src = sources.get(it.id, [])
        units = ", ".join(dict.fromkeys(u.name for _p, u in src))
        ws.append(safe_row([it.number, fields.get(it.field_id, ""), _(svc.ADDRESSEES[it.addressee]),
                            it.addressee_detail or "", it.content, units, len(src),
                            _(svc.STATUS_WORDS[it.status]), it.due_on, it.answered_on,
                            it.answer_ref or "", it.answer_text or ""]))
    for col, width in zip("ABCDEFGHIJKL", (6, 18, 22, 22, 60, 30, 10, 14, 12, 12, 16, 60), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if hasattr(cell.value, "year"):
                cell.number_format = "dd/mm/yyyy"
    if personal:
        ps = wb.create_sheet("Nguồn (dữ liệu cá nhân)")
        ps.append(SOURCE_HEADER)
        for it in items:
            for p, u in sources.get(it.id, []):
                if svc.sees_personal(principal, u):
                    ps.append(safe_row([it.number, u.name, p.heard_on, p.raiser_name or "",
                                        p.raiser_contact or "", p.content]))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def grouped(items: list[Any]) -> list[tuple[int, str, list[Any]]]:
    """Items by field, then addressee (in the order of `service.ADDRESSEES`), as a Front office
    writes them; the print view and the DOCX share it."""
    order = list(svc.ADDRESSEES)
    groups: dict[tuple[int, str], list[Any]] = {}
    for it in sorted(items, key=lambda i: (i.field_id, order.index(i.addressee), i.number)):
        groups.setdefault((it.field_id, it.addressee), []).append(it)
    return [(f, a, its) for (f, a), its in groups.items()]


def summary_docx(session: Session, summary: PetitionSummary, unit: Unit, issued_on: date) -> bytes:
    """The summary as the Word report a Front office sends (A4, Times New Roman): the same
    content as the print view, never any personal data."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    psession = session.get(PetitionSession, summary.session_id)
    fields = {f.id: f.name for f in svc.fields_of(session, active_only=False)}
    items = svc.items_of(session, summary)
    sources = svc.sources_of(session, [i.id for i in items])
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Mm(20), Mm(20), Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(13)

    head = doc.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    left.text = f"ỦY BAN MTTQ VIỆT NAM\n{unit.name.upper()}\nBAN THƯỜNG TRỰC\nSố: {summary.number}/BC-MTTQ-BTT"
    d = summary.sent_on or issued_on
    right.text = (f"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
                  f"{unit.name}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}")
    for cell in (left, right):
        for p in cell.paragraphs:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("BÁO CÁO\n").bold = True
    title.add_run(summary.title).bold = True
    doc.add_paragraph(f"Kỳ họp: {psession.name}.")
    for n, (field_id, addressee, its) in enumerate(grouped(items), 1):
        doc.add_paragraph().add_run(f"{n}. {fields.get(field_id, '')} — {_(svc.ADDRESSEES[addressee])}").bold = True
        for it in its:
            p = doc.add_paragraph(f"{it.number}. {it.content}")
            if it.addressee_detail:
                p.add_run(f" ({it.addressee_detail})").italic = True
            units = ", ".join(dict.fromkeys(u.name for _p, u in sources.get(it.id, [])))
            doc.add_paragraph().add_run(f"Nguồn: {units}").italic = True
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sign.add_run("TM. BAN THƯỜNG TRỰC").bold = True
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
