"""The 2023 key work program of the Yên Bái province Front, as the source document has it:
theme, motto, the 18 indicators of section I.3 and their targets.
"""
from sqlmodel import Session, select

from app.program.models import Indicator, Program, Target
from app.units.models import Unit

YEAR = 2023
TITLE = "Chương trình trọng tâm công tác Mặt trận năm 2023"
SOURCE = ("Ban Thường trực Ủy ban MTTQ Việt Nam tỉnh Yên Bái — Chương trình công tác trọng tâm "
          "năm 2023")
THEME = (
    "Phát huy dân chủ, đổi mới nội dung, phương thức tuyên truyền, vận động, tập hợp, củng cố khối "
    "đại đoàn kết toàn dân tộc. Tiếp tục triển khai sâu rộng các Cuộc vận động, các phong trào thi "
    "đua; triển khai đồng bộ nội dung Phong trào “Toàn dân đoàn kết thu gom, xử lý rác thải sinh "
    "hoạt” trên địa bàn tỉnh. Nâng cao chất lượng, hiệu quả công tác giám sát, phản biện xã hội. "
    "Đẩy mạnh thực hiện chuyển đổi số, ứng dụng công nghệ thông tin trong công tác Mặt trận; nâng "
    "cao năng lực và chất lượng đội ngũ cán bộ MTTQ các cấp. Quyết tâm hoàn thành toàn diện công "
    "tác Mặt trận năm 2023, góp phần xây dựng tỉnh Yên Bái phát triển nhanh, bền vững theo hướng "
    "“xanh, hài hòa, bản sắc và hạnh phúc”."
)
MOTTO = "Đoàn kết, dân chủ; năng động, sáng tạo; tận tụy, trách nhiệm; chất lượng, hiệu quả"
# The document sets "reduce child marriage by 10–15 %" against 2022 without the 2022 count;
# this demo baseline stands in until the province enters the real one.
CHILD_MARRIAGE_BASELINE_2022 = 180

# code, number, short name, full name (document's words), measure, entry depths, time roll-up,
# share filter, value label, numerator label, denominator label
INDICATORS = [
    ("CT01", 1, "Cán bộ được học tập, quán triệt nghị quyết",
     "Cán bộ, công chức chuyên trách từ tỉnh đến cơ sở được học tập, quán triệt các nghị quyết, "
     "chỉ thị, chủ trương của Đảng, chính sách pháp luật của Nhà nước",
     "ratio", "0,1,2", "stock", "all", None, "Số cán bộ đã học tập, quán triệt",
     "Tổng số cán bộ, công chức chuyên trách"),
    ("CT02", 2, "Đoàn viên, hội viên và Nhân dân được tuyên truyền",
     "Đoàn viên, hội viên và Nhân dân được tuyên truyền về các chủ trương của Đảng, chính sách "
     "pháp luật của Nhà nước",
     "ratio", "2", "stock", "all", None, "Số người được tuyên truyền", "Tổng số dân"),
    ("CT03", 3, "Fanpage MTTQ huyện, xã hoạt động hiệu quả",
     "Trang Fanpage của MTTQ các huyện, thị, thành phố và các xã, phường, thị trấn hoạt động "
     "hiệu quả",
     "yes_no", "1,2", "stock", "all", None, None, None),
    ("CT04", 4, "Ban công tác Mặt trận tuyên truyền trên mạng xã hội",
     "Ban công tác Mặt trận có hoạt động tuyên truyền trên Fanpage, Zalo hoặc Facebook cá nhân",
     "yes_no", "3", "stock", "all", None, None, None),
    ("CT05", 5, "Mô hình “thôn, bản hạnh phúc”",
     "MTTQ tỉnh lựa chọn và xây dựng mô hình “thôn, bản hạnh phúc”",
     "count", "0", "flow", "all", "mô hình", None, None),
    ("CT06", 6, "Trường hợp tảo hôn",
     "Số trường hợp tảo hôn trên địa bàn toàn tỉnh (phấn đấu giảm 10-15% so với năm 2022)",
     "count", "2", "flow", "all", "trường hợp", None, None),
    ("CT07", 7, "Tổ tự quản hoạt động",
     "Mô hình tự quản ở cộng đồng dân cư thôn (bản), tổ dân phố duy trì hoạt động",
     "count", "3", "stock", "all", "tổ", None, None),
    ("CT08", 8, "Thôn, tổ dân phố tổ chức Ngày hội Đại đoàn kết",
     "Thôn, tổ dân phố tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
     "yes_no", "3", "stock", "all", None, None, None),
    ("CT09", 9, "Thôn, tổ tổ chức tốt cả phần lễ và phần hội",
     "Thôn, tổ tổ chức tốt cả phần lễ và phần hội của Ngày hội Đại đoàn kết toàn dân tộc",
     "yes_no", "3", "stock", "all", None, None, None),
    ("CT10", 10, "Thôn, tổ dân phố đạt chuẩn văn hóa",
     "Thôn, tổ dân phố đạt chuẩn văn hóa",
     "yes_no", "3", "stock", "all", None, None, None),
    ("CT11", 11, "Hộ gia đình đạt chuẩn văn hóa",
     "Hộ gia đình đạt chuẩn văn hoá",
     "ratio", "3", "stock", "all", None, "Số hộ đạt chuẩn văn hóa", "Tổng số hộ"),
    ("CT12", 12, "Nhà đại đoàn kết xây dựng mới",
     "Nhà đại đoàn kết xây dựng mới, theo cấp chủ trì vận động nguồn lực",
     "count", "0,1", "flow", "all", "nhà", None, None),
    ("CT13", 13, "Mô hình hỗ trợ phát triển kinh tế",
     "Mô hình hỗ trợ phát triển kinh tế được chủ trì chỉ đạo, hướng dẫn xây dựng",
     "count", "0,1", "flow", "all", "mô hình", None, None),
    ("CT14", 14, "Hộ được giúp đỡ thoát nghèo",
     "Hộ nghèo được tuyên truyền, vận động, hỗ trợ, giúp đỡ thoát nghèo theo kế hoạch của tỉnh",
     "count", "2", "flow", "all", "hộ", None, None),
    ("CT15", 15, "Quỹ “Vì người nghèo”",
     "Quỹ “Vì người nghèo” các cấp vận động được",
     "amount", "0,1,2", "flow", "all", "đồng", None, None),
    ("CT16", 16, "Xã nông thôn mới duy trì tiêu chí môi trường",
     "Xã đã công nhận và dự kiến công nhận đạt chuẩn nông thôn mới duy trì tiêu chí về môi "
     "trường, thu gom rác thải, đảm bảo xanh, sạch, đẹp",
     "yes_no", "2", "stock", "new_rural", None, None, None),
    ("CT17", 17, "Cuộc giám sát",
     "Cuộc giám sát do MTTQ các cấp tổ chức",
     "count", "0,1,2", "flow", "all", "cuộc", None, None),
    ("CT18", 18, "Phản biện xã hội",
     "Nội dung, hội nghị phản biện xã hội do MTTQ tổ chức",
     "count", "0,1", "flow", "all", "nội dung", None, None),
]

# code, scope, depth (for each), comparator, value, value_high, on, document's words.
# scope "own" with depth None means the province's own figure.
TARGETS = [
    ("CT01", "total", None, ">=", 100, None, "value",
     "100% cán bộ, công chức chuyên trách từ tỉnh đến cơ sở được học tập, quán triệt"),
    ("CT02", "total", None, ">=", 90, None, "value",
     "Từ 90% trở lên đoàn viên, hội viên và Nhân dân được tuyên truyền"),
    ("CT03", "total", None, ">=", 100, None, "value",
     "Phấn đấu 100% trang Fanpage của MTTQ các huyện, thị, thành phố và các xã, phường, thị trấn "
     "hoạt động hiệu quả"),
    ("CT04", "total", None, ">=", 50, None, "value",
     "Ít nhất 50% Ban công tác Mặt trận có hoạt động tuyên truyền trên Fanpage, Zalo hoặc Facebook"),
    ("CT05", "own", None, ">=", 2, None, "value",
     "MTTQ tỉnh lựa chọn và xây dựng 02 mô hình “thôn, bản hạnh phúc”"),
    ("CT06", "total", None, "range", 10, 15, "reduction_pct",
     "Phấn đấu năm 2023 giảm 10-15% số trường hợp tảo hôn trên địa bàn toàn tỉnh"),
    ("CT08", "total", None, ">=", 95, None, "value",
     "Có 95% thôn, tổ dân phố tổ chức Ngày hội Đại đoàn kết toàn dân tộc"),
    ("CT09", "total", None, ">", 90, None, "value",
     "Trên 90% thôn, tổ tổ chức tốt cả phần lễ và phần hội"),
    ("CT10", "total", None, ">=", 71, None, "value",
     "Phấn đấu 71% thôn, tổ dân phố đạt chuẩn văn hóa"),
    ("CT11", "total", None, ">=", 83, None, "value", "83% hộ gia đình đạt chuẩn văn hoá"),
    ("CT12", "own", None, ">=", 20, None, "value",
     "Cấp tỉnh chủ trì vận động nguồn lực để xây dựng mới ít nhất 20 nhà đại đoàn kết"),
    ("CT12", "each", 1, ">=", 3, None, "value",
     "Mỗi huyện chủ trì vận động xây dựng ít nhất 03 nhà đại đoàn kết"),
    ("CT13", "own", None, ">=", 2, None, "value",
     "Chủ trì chỉ đạo, hướng dẫn xây dựng 02 mô hình hỗ trợ phát triển kinh tế"),
    ("CT13", "each", 1, ">=", 1, None, "value", "Mỗi huyện tối thiểu 01 mô hình"),
    ("CT15", "total", None, ">=", 10 * 10**9, None, "value",
     "Quỹ Vì người nghèo các cấp đạt từ 10 tỷ đồng trở lên"),
    ("CT15", "own", None, ">=", 3 * 10**9, None, "value",
     "Quỹ “Vì người nghèo” tỉnh đạt từ 3 tỷ đồng trở lên"),
    ("CT16", "total", None, ">=", 100, None, "value",
     "Duy trì tiêu chí môi trường tại 100 xã đã công nhận đạt chuẩn nông thôn mới và 06 xã dự kiến "
     "công nhận trong năm 2023"),
    ("CT17", "own", None, ">=", 4, None, "value", "MTTQ tỉnh tổ chức ít nhất 04 cuộc giám sát"),
    ("CT17", "each", 1, ">=", 2, None, "value", "Mỗi huyện tổ chức tối thiểu 02 cuộc giám sát"),
    ("CT17", "each", 2, ">=", 1, None, "value", "Mỗi xã tổ chức tối thiểu 01 cuộc giám sát"),
    ("CT18", "own", None, ">=", 2, None, "value", "MTTQ tỉnh tổ chức 02 nội dung phản biện xã hội"),
    ("CT18", "each", 1, ">=", 1, None, "value", "Mỗi huyện tổ chức tối thiểu 01 Hội nghị phản biện"),
]


def seed_program(session: Session) -> Program:
    """The 2023 program with its indicators and targets; returns the existing one if present."""
    existing = session.exec(select(Program).where(Program.year == YEAR)).first()
    if existing is not None:
        return existing
    root = session.exec(select(Unit).where(Unit.depth == 0)).one()
    program = Program(year=YEAR, title=TITLE, theme=THEME, motto=MOTTO, root_unit_id=root.id,
                      source=SOURCE)
    session.add(program)
    session.flush()
    by_code: dict[str, Indicator] = {}
    for code, number, short, name, measure, depths, time_rollup, share, label, num, den in INDICATORS:
        ind = Indicator(program_id=program.id, code=code, number=number, short_name=short, name=name,
                        measure=measure, entry_depths=depths, time_rollup=time_rollup,
                        share_filter=share, value_label=label, numerator_label=num,
                        denominator_label=den)
        if code == "CT06":
            ind.baseline, ind.baseline_year = CHILD_MARRIAGE_BASELINE_2022, 2022
        session.add(ind)
        by_code[code] = ind
    session.flush()
    for code, scope, depth, comparator, value, high, on, label in TARGETS:
        session.add(Target(indicator_id=by_code[code].id, scope=scope, depth=depth,
                           unit_id=root.id if scope in ("own", "total") else None,
                           basis="own", comparator=comparator, value=value, value_high=high,
                           on=on, label=label))
    session.flush()
    return program
