"""A compiled summary as an XLSX workbook, in the columns a Front office sends up.

Built from the compiled items; the sources are named by their receiving units. The raisers'
names and contacts are added (one sheet of sources) only when `personal` is asked for by a
caller whose role allows it — the route checks that before calling.
"""
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from app.accounts.deps import Principal
from app.core.i18n import _
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
    ws.append([f"Số {summary.number}: {summary.title}"])
    ws.append([f"{psession.name} · {unit.name}"])
    ws["A1"].font = Font(bold=True)
    ws.append(HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for it in items:
        src = sources.get(it.id, [])
        units = ", ".join(dict.fromkeys(u.name for _p, u in src))
        ws.append([it.number, fields.get(it.field_id, ""), _(svc.ADDRESSEES[it.addressee]), it.addressee_detail or "",
                   it.content, units, len(src), _(svc.STATUS_WORDS[it.status]), it.due_on, it.answered_on,
                   it.answer_ref or "", it.answer_text or ""])
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
                    ps.append([it.number, u.name, p.heard_on, p.raiser_name or "", p.raiser_contact or "", p.content])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
