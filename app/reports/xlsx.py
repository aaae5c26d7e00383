"""The monthly report as an XLSX workbook: the same `MonthlyReport` as the page, three sheets.

Figures are written as numbers (percentages as fractions with a % format, money as whole
đồng), so a spreadsheet can compute with them; words (status, targets) as text.
"""
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.core.i18n import _
from app.core.spreadsheet import safe_row
from app.program.display import quarter_numeral, status_word, target_text
from app.program.rules import PERCENT_MEASURES
from app.reports.service import MonthlyReport
from app.rollup.on_track import NO_DATA

SHEET_INDICATORS = "Chỉ tiêu"
SHEET_TASKS = "Nhiệm vụ"
SHEET_COMPLETENESS = "Tiến độ báo cáo"
TASK_WORDS = {"done": "Done", "overdue": "Overdue", "in_progress": "Under way", "not_started": "Not yet started"}
INDICATOR_HEADER = ["STT", "Mã", "Chỉ tiêu", "Kết quả lũy kế", "Tử số", "Mẫu số", "Đơn vị đã báo cáo",
                    "Đơn vị phải báo cáo", "Mục tiêu", "Nội dung mục tiêu", "Kết quả so sánh",
                    "Đơn vị đạt", "Đơn vị xét", "Đánh giá"]


def workbook(report: MonthlyReport) -> bytes:
    """The monthly report as XLSX: indicators, tasks, who has reported; one sheet each."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_INDICATORS
    _indicators_sheet(ws, report)
    _tasks_sheet(wb.create_sheet(SHEET_TASKS), report)
    _completeness_sheet(wb.create_sheet(SHEET_COMPLETENESS), report)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _indicators_sheet(ws: Worksheet, report: MonthlyReport) -> None:
    _title(ws, report, f"Kết quả thực hiện các chỉ tiêu (lũy kế tháng 01–{report.mm}/{report.year})")
    ws.append(INDICATOR_HEADER)
    _bold(ws, 3)
    for i, prog in enumerate(report.progress, 1):
        res = prog.result
        ind, fig = res.indicator, res.subtree
        pct = ind.measure in PERCENT_MEASURES
        base = [i, ind.code, ind.short_name, fig.value, fig.numerator, fig.denominator,
                fig.reported, fig.expected]
        rows = prog.targets or [None]
        for tp in rows:
            tr = tp.result if tp is not None else None
            if tp is None:
                ws.append(safe_row(base + [None, None, None, None, None, status_word(NO_DATA)]))
            else:
                ws.append(safe_row(base + [target_text(ind, tr), tr.target.label, tr.actual, tr.units_meeting,
                                           tr.units_total, status_word(tp.verdict)]))
            r = ws.max_row
            if pct:
                ws.cell(r, 4).number_format = "0.0%"
            elif ind.measure == "amount":
                ws.cell(r, 4).number_format = "#,##0"
            ws.cell(r, 11).number_format = "#,##0.0" if (tr and (pct or tr.target.on == "reduction_pct")) \
                else "#,##0"
    _widths(ws, [5, 7, 44, 16, 12, 12, 12, 12, 16, 50, 14, 10, 10, 14])


def _tasks_sheet(wt: Worksheet, report: MonthlyReport) -> None:
    _title(wt, report, f"Nhiệm vụ (tình trạng đến ngày {report.as_of:%d/%m/%Y})")
    wt.append(["Mục", "Quý", "Số", "Nhiệm vụ", "Chủ trì", "Hạn", "Tình trạng", "Ngày hoàn thành",
               "Bổ sung", "Lý do bổ sung"])
    _bold(wt, 3)
    sections = [("II. Đã hoàn thành trong tháng", report.done), ("III. Quá hạn", report.overdue),
                ("IV. Tháng tới", report.next_month), ("IV. Phát sinh, bổ sung", report.additions)]
    for name, views in sections:
        for v in views:
            t = v.task
            wt.append(safe_row([name, quarter_numeral(t.quarter), v.label, t.title, t.lead_department or v.lead.name,
                       t.due_note or (f"Tháng {t.due_month}" if t.due_month else f"Quý {quarter_numeral(t.quarter)}"),
                       _(TASK_WORDS[v.state]), t.done_on.strftime("%d/%m/%Y") if t.done_on else None,
                       "Bổ sung" if t.is_addition else None, t.addition_reason]))
    _widths(wt, [26, 6, 8, 60, 26, 14, 14, 16, 10, 40])


def _completeness_sheet(wc: Worksheet, report: MonthlyReport) -> None:
    _title(wc, report, f"Tình hình báo cáo tháng {report.mm}/{report.year}")
    wc.append(["Cấp", "Đã gửi báo cáo", "Tổng số đơn vị", "Tỷ lệ"])
    _bold(wc, 3)
    comp = report.completeness
    if comp is not None:
        for lv in comp.levels:
            wc.append(safe_row([lv.level, lv.submitted, lv.total, (lv.submitted / lv.total) if lv.total else None]))
            wc.cell(wc.max_row, 4).number_format = "0.0%"
        wc.append([])
        wc.append(["Đơn vị chưa gửi báo cáo", "Mã", "Cấp"])
        _bold(wc, wc.max_row)
        for lv in comp.levels:
            for u in lv.missing:
                wc.append(safe_row([u.name, u.code, lv.level]))
    _widths(wc, [34, 16, 16, 10])


def _title(ws: Worksheet, report: MonthlyReport, text: str) -> None:
    ws.append(safe_row([f"Ủy ban MTTQ Việt Nam {report.unit_kind.lower()} {report.unit.name} — {text}"]))
    ws.cell(1, 1).font = Font(bold=True, size=12)
    ws.append([f"Báo cáo số {report.number}, tháng {report.mm} năm {report.year}; lập ngày {report.issued_on:%d/%m/%Y}"])


def _bold(ws: Worksheet, row: int) -> None:
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
