"""The 44 tasks of section II of the 2023 program (Q1 12, Q2 13, Q3 8, Q4 11), as the document
has them: number, full text, due month where the text names one, Q1 (6)'s three sub-items.

Texts are the document's words, its own slips included ("xủ lý", "6 tháng cuối năm 2022"),
stored in Unicode NFC: the source file writes part of Q1 (2) with combining accents, which
look the same but would defeat search and comparison, so they are composed here.

Due month: the month in the text's "(tháng N)"; "(tháng 11, 12)" is due in 12 with the note
"tháng 11, 12"; Q4 (1) says "(tháng 9)" though it sits in quarter IV, and keeps it.

Leads: the document names no lead per task. Section III gives the work to three departments
of the province Front office (Ban Phong trào, Ban Dân chủ - Pháp luật, Văn phòng), so every
task is led by the province (`lead_unit_id`) with the department assigned by subject:
- Ban Phong trào: movements and campaigns (waste collection, Great Unity Day, great-unity
  houses, economic-support models, poverty, happy villages, child marriage, self-management
  groups, religious outreach, visits and gifts);
- Ban Dân chủ - Pháp luật: supervision, social critique, voters' opinions, advisory boards,
  the joint resolution 403, PAPI, the public-security program;
- Văn phòng: plans, reports, the Committee's conferences, inspections of the Front's work,
  training, emulation and awards, organisation.

Links to indicators: the three the program names (Q2 (7) → CT12, Q3 (8) → CT13, Q1 (9) →
CT05), and those the text clearly implies: Q1 (9) and Q4 (6) child marriage → CT06; Q1 (6)
sub-items → CT13 / CT12 + CT14 / CT14; supervisions Q2 (2), Q3 (1), Q3 (2), Q4 (1) → CT17;
social critique Q2 (3), Q3 (3) → CT18; the waste-collection movement Q1 (4), (5) → CT16
(environment criteria, waste collection); Q4 (2) self-management groups → CT07; Q4 (4) Great
Unity Day → CT08, CT09. Not linked: Q2 (6) (a joint check with the Ethnic Committee, not a
Front supervision) and Q2 (8) (hand-over of an existing livelihood project, not a new model).
"""
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.program.departments import DEMOCRACY_LAW as DC
from app.program.departments import DEPARTMENTS
from app.program.departments import MOVEMENTS as PT
from app.program.departments import OFFICE as VP
from app.program.models import Indicator, Program, Task, TaskIndicator

__all__ = ["DEPARTMENTS", "seed_tasks"]  # DEPARTMENTS: read from here by app.program.pages until it moves


@dataclass(frozen=True)
class SeedSub:
    title: str
    links: list[str]
    text: str


@dataclass(frozen=True)
class SeedTask:
    quarter: int
    number: int
    title: str
    department: str
    links: list[str]
    due_month: int | None = None
    due_note: str | None = None
    text: str = ""
    subs: list[SeedSub] = field(default_factory=list)


TASKS: list[SeedTask] = [
    # Quý I
    SeedTask(1, 1, "Văn bản, kế hoạch, hướng dẫn thực hiện chương trình phối hợp năm 2023", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Ban hành các Văn bản, Kế hoạch chuyên đề, Hướng dẫn MTTQ các cấp "
                 "thực hiện chương trình phối hợp thống nhất hành động năm 2023. Kế "
                 "hoạch thực hiện Chương trình hành động số 135-CTr/TU ngày 18/11/2022 "
                 "của Tỉnh ủy Yên Bái về lãnh đạo thực hiện nhiệm vụ chính trị năm "
                 "2023.")),
    SeedTask(1, 2, "Chăm lo Tết Quý Mão 2023 cho người nghèo", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Phối hợp vận động, tiếp nhận, phân bổ các nguồn lực triển khai các "
                 "hoạt động chăm lo Tết Nguyên đán cho người nghèo nhân dịp Tết Quý "
                 "Mão 2023; bàn giao nhà đại đoàn kết cho hộ nghèo; Tổ chức tốt các "
                 "hoạt động thăm hỏi, tặng quà, phối hợp đón tiếp các Đoàn công tác "
                 "của các đồng chí lãnh đạo Đảng, Nhà nước, Ủy ban Trung ương MTTQ "
                 "Việt Nam thăm, chúc Tết tại tỉnh Yên Bái.")),
    SeedTask(1, 3, "Kế hoạch nâng cao chỉ số hạnh phúc; xây dựng con người Yên Bái", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Ban hành Kế hoạch của Ban Thường trực Ủy ban MTTQ tỉnh về nâng cao "
                 "chỉ số hạnh phúc cho người dân Yên Bái năm 2023; Kế hoạch của MTTQ "
                 "tỉnh về xây dựng con người Yên Bái “thân thiện, nhân ái, đoàn kết, "
                 "sáng tạo, hội nhập” theo Kế hoạch của Tỉnh ủy.")),
    SeedTask(1, 4, "Hiệp thương, phát động Phong trào thu gom, xử lý rác thải", PT, ["CT16"],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức hiệp thương, phân công nhiệm vụ của MTTQ và các đoàn thể "
                 "trong tổ chức thực hiện Phong trào “Toàn dân đoàn kết thu gom, xử lý "
                 "rác thải sinh hoạt” trên toàn tỉnh. Phối hợp với các tổ chức CT-XH "
                 "tỉnh thống nhất, lựa chọn 01 xã tổ chức Lễ phát động, ra quân thu "
                 "gom, xủ lý rác thải sinh hoạt.")),
    SeedTask(1, 5, "Triển khai Phong trào thu gom và xử lý rác thải sinh hoạt", PT, ["CT16"],
             due_month=None, due_note=None,
             text=(
                 "Triển khai Kế hoạch, Hướng dẫn tổ chức thực hiện Phong trào “Toàn "
                 "dân đoàn kết thu gom và xử lý rác thải sinh hoạt” trên địa bàn tỉnh.")),
    SeedTask(1, 6, "Khảo sát thực hiện Chương trình hành động số 135-CTr/TU", PT, [],
             due_month=None, due_note=None,
             subs=[
                 SeedSub("Khảo sát mô hình hỗ trợ phát triển kinh tế", ["CT13"],
                         "Khảo sát xây dựng các mô hình hỗ trợ phát triển kinh tế"),
                 SeedSub("Khảo sát xây dựng 20 nhà đại đoàn kết; giúp đỡ hộ nghèo thoát nghèo",
                         ["CT12", "CT14"],
                         "Khảo sát xây dựng 20 nhà đại đoàn kết cho hộ nghèo; Khảo "
                         "sát, vận động, giúp đỡ các hộ nghèo thoát nghèo."),
                 SeedSub("Khảo sát hộ nghèo có nhu cầu thoát nghèo", ["CT14"],
                         "Khảo sát các hộ nghèo có nhu cầu thoát nghèo năm 2023."),
             ],
             text=(
                 "Tổ chức khảo sát các đối tượng và địa điểm thực hiện nội dung Chương "
                 "trình hành động số 135-CTr/TU của Tỉnh ủy.")),
    SeedTask(1, 7, "Dự thảo Nghị quyết về công tác giám sát, phản biện xã hội", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Chủ trì phối hợp với các tổ chức chính trị xã hội tỉnh tham mưu cho "
                 "Ban Thường vụ Tỉnh ủy Dự thảo Nghị quyết về phát huy vai trò, nâng "
                 "cao chất lượng, hiệu quả công tác giám sát, phản biện của Mặt trận "
                 "Tổ quốc và các đoàn thể chính trị - xã hội trên địa bàn tỉnh để thực "
                 "hiện Chỉ thị số 18-CT/TW của Ban Bí thư.")),
    SeedTask(1, 8, "Kế hoạch “Ngày cuối tuần cùng dân”", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Ban hành Kế hoạch thực hiện chương trình “Ngày cuối tuần cùng dân” "
                 "và các hoạt động giúp đỡ xã được phân công phụ trách trong năm 2023.")),
    SeedTask(1, 9, "Tuyên truyền đẩy lùi tảo hôn; mô hình “thôn/bản hạnh phúc”", PT,
             ["CT05", "CT06"],
             due_month=None, due_note=None,
             text=(
                 "Triển khai Kế hoạch tuyên truyền, đẩy lùi tình trạng tảo hôn, hôn "
                 "nhân cận huyết thống và xuất, nhập cảnh trái phép trên địa bàn tỉnh; "
                 "Chỉ đạo xây dựng 2 mô hình “thôn/bản hạnh phúc”.")),
    SeedTask(1, 10, "Sơ kết Chương trình phối hợp số 11/CTPH/BTVTU-MTTQ-DT", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Sơ kết Chương trình phối hợp số 11/CTPH/BTVTU-MTTQ-DT ngày 01/3/2021 "
                 "giữa Ban Thường vụ Thành ủy Yên Bái với Đảng đoàn MTTQ, Liên đoàn "
                 "lao động, Hội Nông dân, Hội Cựu chiến binh, Hội Liên hiệp phụ nữ "
                 "tỉnh, Ban Thường vụ Tỉnh đoàn Yên Bái giai đoạn 2021-2025. Triển "
                 "khai Kế hoạch công tác năm 2023.")),
    SeedTask(1, 11, "Tổng kết giúp đỡ, phụ trách huyện Văn Chấn", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Phối hợp với Huyện ủy Văn Chấn tổ chức Tổng kết hoạt động giúp đỡ, "
                 "phụ trách huyện theo Quyết định số 156-QĐ/TU ngày 23/2/2021 của Ban "
                 "Thường vụ Tỉnh ủy về việc thành lập các đoàn công tác của Ban Thường "
                 "vụ Tỉnh ủy phụ trách, theo dõi, giúp đỡ các huyện, xã, các thôn đặc "
                 "biệt khó khăn của tỉnh.")),
    SeedTask(1, 12, "Tổng kết 05 năm Đề án giảm đầu mối", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức Hội nghị tổng kết 05 năm thực hiện Đề án giảm đầu mối bên "
                 "trong Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội tỉnh; Đề "
                 "án của Ban Thường vụ Tỉnh ủy về thí điểm xây dựng Cơ quan tham mưu, "
                 "giúp việc chung khối MTTQ và các đoàn thể chính trị - xã hội cấp "
                 "huyện.")),
    # Quý II
    SeedTask(2, 1, "Bồi dưỡng, tập huấn nghiệp vụ cán bộ Mặt trận", VP, [],
             due_month=4, due_note=None,
             text=(
                 "Tổ chức Hội nghị bồi dưỡng, tập huấn nghiệp vụ công tác Mặt trận cho "
                 "đội ngũ cán bộ Mặt trận Tổ quốc các cấp tỉnh Yên Bái (tháng 4)")),
    SeedTask(2, 2, "Giám sát bồi thường, hỗ trợ tái định cư", DC, ["CT17"],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức giám sát việc triển khai thực hiện công tác Giám sát việc "
                 "thực hiện chính sách pháp luật về bồi thường, hỗ trợ tái định cư (từ "
                 "01 - 02 công trình giao thông thuộc Ban Quản lý Dự án Sở Giao thông "
                 "– Vận tải tỉnh Yên Bái).")),
    SeedTask(2, 3, "Hội nghị phản biện xã hội (quý II)", DC, ["CT18"],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức Hội nghị phản biện xã hội khi có yêu cầu của đơn vị soạn "
                 "thảo.")),
    SeedTask(2, 4, "Tổng hợp ý kiến, kiến nghị cử tri (quý II)", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Tổng hợp ý kiến, kiến nghị của cử tri và nhân dân gửi Trung ương "
                 "MTTQ Việt Nam và Đoàn Đại biểu Quốc hội tại các kỳ họp Quốc hội khóa "
                 "XV và báo cáo tại kỳ họp HĐND tỉnh khoá XIX;")),
    SeedTask(2, 5, "Thăm hỏi các tổ chức tôn giáo dịp Phục sinh, Phật Đản", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Triển khai Kế hoạch và Tổ chức thăm hỏi, tặng quà các tổ chức tôn "
                 "giáo nhân dịp lễ Phục sinh (Đạo Công giáo, Đạo Tin Lành), tham dự "
                 "Đại lễ Phật Đản của phật giáo.")),
    SeedTask(2, 6, "Kiểm tra, giám sát chương trình phối hợp với Ban Dân tộc", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Phối hợp với Ban dân tộc tỉnh kiểm tra, giám sát việc triển khai "
                 "thực hiện chương trình phối hợp.")),
    SeedTask(2, 7, "Xây dựng mới 20 nhà đại đoàn kết", PT, ["CT12"],
             due_month=None, due_note=None,
             text=(
                 "Vận động các nguồn lực xã hội hóa và triển khai xây dựng mới 20 nhà "
                 "đại đoàn kết tại các huyện, thị trong tỉnh.")),
    SeedTask(2, 8, "Tổng kết, chuyển giao dự án bò cái sinh sản Mù Cang Chải", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Tham mưu tổng kết và chuyển giao dự án phát triển chăn nuôi bò cái "
                 "sinh sản tạo sinh kế để hộ nghèo, hộ cận nghèo thoát nghèo tại huyện "
                 "Mù Cang Chải, cho Ủy ban MTTQ Việt Nam huyện Mù Cang Chải theo dõi "
                 "quản lý, tiếp tục nhân rộng phát triển mô hình.")),
    SeedTask(2, 9, "Ban Tư vấn, Tổ tư vấn của Ủy ban MTTQ", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Hướng dẫn Ủy ban MTTQ huyện Trạm Tấu, Lục Yên ra mắt Ban Tư vấn trực "
                 "thuộc của Ủy ban MTTQ huyện; Hướng dẫn hệ thống MTTQ cấp huyện, xã "
                 "thành lập các Tổ tư vấn của Ủy ban MTTQ cấp xã, phát huy vai trò của "
                 "các Ban Tư vấn, Tổ tư vấn, Ủy viên Ủy ban MTTQ các cấp tham gia tư "
                 "vấn, giám sát, phản biện xã hội, góp ý xây dựng Đảng, chính quyền ở "
                 "cơ sở.")),
    SeedTask(2, 10, "Kiểm tra công tác Mặt trận 6 tháng đầu năm", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Kiểm tra công tác Mặt trận 6 tháng đầu năm tại các huyện, thị, thành "
                 "phố.")),
    SeedTask(2, 11, "Báo cáo sơ kết công tác Mặt trận 6 tháng đầu năm", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Báo cáo sơ kết công tác Mặt trận 6 tháng đầu năm; phương hướng nhiệm "
                 "vụ 6 tháng cuối năm 2023; Báo cáo kết quả 6 tháng các chuyên đề công "
                 "tác.")),
    SeedTask(2, 12, "Hội nghị Ủy ban MTTQ tỉnh lần thứ 9", VP, [],
             due_month=6, due_note=None,
             text=(
                 "Tổ chức Hội nghị Ủy ban MTTQ tỉnh lần thứ 9, khóa XV nhiệm kỳ "
                 "2019-2024; sơ kết kết quả công tác Mặt trận 6 tháng đầu năm, triển "
                 "khai nhiệm vụ 6 tháng cuối năm 2022 (tháng 6).")),
    SeedTask(2, 13, "Chỉ thị của Ban Thường vụ Tỉnh ủy về đại hội MTTQ các cấp", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Tham mưu ban hành Chỉ thị của Ban Thường vụ Tỉnh ủy về lãnh đạo đại "
                 "hội Mặt trận Tổ quốc Việt Nam các cấp và Đại hội đại biểu Mặt trận "
                 "Tổ quốc Việt Nam tỉnh Yên Bái lần thứ XVI, nhiệm kì 2024 - 2029.")),
    # Quý III
    SeedTask(3, 1, "Giám sát cấp giấy chứng nhận quyền sử dụng đất lần đầu", DC, ["CT17"],
             due_month=7, due_note=None,
             text=(
                 "Tổ chức Giám sát công khai việc minh bạch, thực hiện thủ tục hành "
                 "chính Nhà nước liên quan đến việc cấp giấy chứng nhận quyền sử dụng "
                 "đất lần đầu cho cá nhân và hộ gia đình, Đối tượng giám sát: UBND "
                 "huyện Trạm Tấu và các phòng, ban liên quan (tháng 7)")),
    SeedTask(3, 2, "Giám sát giải quyết ý kiến, kiến nghị cử tri", DC, ["CT17"],
             due_month=8, due_note=None,
             text=(
                 "Tổ chức giám sát việc giải quyết, trả lời ý kiến, kiến nghị cử tri "
                 "và Nhân dân của các sở, ngành liên quan (tháng 8).")),
    SeedTask(3, 3, "Hội nghị phản biện xã hội (quý III)", DC, ["CT18"],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức Hội nghị phản biện xã hội khi có yêu cầu của đơn vị soạn "
                 "thảo.")),
    SeedTask(3, 4, "Sơ kết 5 năm Đề án vận động, đoàn kết các tôn giáo", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Triển khai kế hoạch và tổ chức Hội nghị sơ kết 5 năm thực hiện Đề án "
                 "“Tăng cường vận động, đoàn kết các tôn giáo ở nước ta hiện nay”.")),
    SeedTask(3, 5, "Sơ kết 5 năm Nghị quyết liên tịch số 403/2017", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức Hội nghị sơ kết 5 năm thực hiện nghị quyết Liên tịch số "
                 "403/2017/NQLT-UBTVQH14-CP-ĐCTUBTWMTTQVN.")),
    SeedTask(3, 6, "Khảo sát chỉ số PAPI tại 12 thôn, tổ dân phố", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Phối hợp với Trung tâm nghiên cứu khoa học và bồi dưỡng cán bộ thuộc "
                 "Trung ương MTTQ Việt Nam khảo sát cải cách hành chính công và dịch "
                 "vụ công tại 12 thôn, tổ dân phố thuộc các huyện Văn Yên, Văn Chấn, "
                 "thành phố Yên Bái (chỉ số Papi);")),
    SeedTask(3, 7, "Tổng kết 10 năm Chương trình phối hợp số 09 với Bộ Công an", DC, [],
             due_month=None, due_note=None,
             text=(
                 "Phối hợp với Công an tỉnh tổng kết 10 năm thực hiện Chương trình "
                 "phối hợp số 09/CTr-BCA-MTTW ngày 01/8/2013 giữa Ban Thường trực Ủy "
                 "ban Trung ương MTTQ Việt Nam và các tổ chức thành viên với Bộ Công "
                 "an về đẩy mạnh phong trào toàn dân bảo vệ an ninh Tổ quốc trong tình "
                 "hình mới giai đoạn 2021-2023.")),
    SeedTask(3, 8, "Xây dựng 02 mô hình hỗ trợ phát triển kinh tế", PT, ["CT13"],
             due_month=None, due_note=None,
             text=(
                 "Chỉ đạo, hướng dẫn xây dựng 02 mô hình hỗ trợ phát triển kinh tế tại "
                 "một số huyện, thị, thành phố.")),
    # Quý IV
    SeedTask(4, 1, "Giám sát thực hiện Luật bầu cử", DC, ["CT17"],
             due_month=9, due_note=None,
             text=(
                 "Giám sát việc thực hiện Luật bầu cử đại biểu Quốc hội và đại biểu "
                 "Hội đồng nhân dân năm 2015 (tháng 9).")),
    SeedTask(4, 2, "Hội nghị đánh giá mô hình Tổ tự quản", PT, ["CT07"],
             due_month=10, due_note=None,
             text=(
                 "Tổ chức Hội nghị đánh giá hoạt động các mô hình Tổ tự quản ở thôn "
                 "(bản), tổ dân phố; tuyên dương Tổ trưởng tổ tự quản tiêu biểu xuất "
                 "sắc giai đoạn 2019-2022 (tháng 10).")),
    SeedTask(4, 3, "Tổng kết 20 năm Nghị quyết 04/NQ-ĐCT về Ngày hội đại đoàn kết", PT, [],
             due_month=11, due_note=None,
             text=(
                 "Tổ chức Hội nghị tổng kết 20 năm thực hiện Nghị quyết 04/NQ-ĐCT của "
                 "Đoàn Chủ tịch Ủy ban Trung ương MTTQ Việt Nam và  biểu dương, khen "
                 "thưởng các Tập thể, cá nhân có thành tích xuất sắc trong 20 năm phối "
                 "hợp, triển khai và tổ chức Ngày hội đại đoàn kết toàn dân tộc (tháng "
                 "11).")),
    SeedTask(4, 4, "Ngày hội Đại đoàn kết toàn dân tộc năm 2023", PT, ["CT08", "CT09"],
             due_month=None, due_note=None,
             text=(
                 "Triển khai Kế hoạch và Hướng dẫn MTTQ các cấp tổ chức Ngày hội Đại "
                 "đoàn kết toàn dân tộc nhân dịp kỷ niệm 93 năm Ngày truyền thống Mặt "
                 "trận Tổ quốc Việt Nam (18/11/1930 - 18/11/2023); Tham mưu cho cấp ủy "
                 "các cấp chuẩn bị các điều kiện tổ chức ngày hội tại các Thôn, tổ dân "
                 "phố có Lãnh đạo Đảng, Nhà nước, Lãnh đạo tỉnh, huyện về dự Ngày hội.")),
    SeedTask(4, 5, "Tổng hợp ý kiến, kiến nghị cử tri (quý IV)", DC, [],
             due_month=12, due_note="tháng 11, 12",
             text=(
                 "Tổng hợp ý kiến, kiến nghị của cử tri và nhân dân gửi Trung ương "
                 "MTTQ Việt Nam và Đoàn Đại biểu Quốc hội báo cáo tại kỳ họp của Quốc "
                 "hội khóa XV và báo cáo tại kỳ họp HĐND tỉnh khoá XIX (tháng 11, 12).")),
    SeedTask(4, 6, "Kiểm tra vận động đẩy lùi tảo hôn", PT, ["CT06"],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức kiểm tra việc thực hiện vận động đẩy lùi tình trạng tảo hôn, "
                 "hôn nhân cận huyết thống và không xuất nhập cảnh trái phép trên địa "
                 "bàn tỉnh Yên Bái năm 2023.")),
    SeedTask(4, 7, "Thăm hỏi, tặng quà theo Quyết định số 76/2013", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức thăm hỏi, tặng quà các đối tượng do MTTQ thực hiện theo "
                 "Quyết định số 76/2013 của Thủ tướng chính phủ nhân kỷ niệm 93 năm "
                 "ngày truyền thống Mặt trận tổ quốc Việt Nam (18/11); ngày thành lập "
                 "quân đội Nhân dân 22/12, Lễ Noel 2023; Tết Nguyên Đán 2024.")),
    SeedTask(4, 8, "Khảo sát ý kiến người dân về môi trường sống", PT, [],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức khảo sát lấy ý kiến người dân về chất lượng môi trường sống "
                 "năm 2023 trên địa bàn tỉnh Yên Bái.")),
    SeedTask(4, 9, "Tổng kết thi đua, khen thưởng và Chương trình hành động số 135", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Tổ chức tổng kết các phong trào thi đua, các cuộc vận động và công "
                 "tác thi đua khen thưởng hệ thống MTTQ các cấp, Khối, Cụm thi đua và "
                 "Kết quả Chương trình hành động số 135-CTr/TU ngày 18/11/2022 về lãnh "
                 "đạo thực hiện nhiệm vụ chính trị năm 2023 của Tỉnh ủy Yên Bái.")),
    SeedTask(4, 10, "Báo cáo tổng kết công tác Mặt trận năm 2023", VP, [],
             due_month=None, due_note=None,
             text=(
                 "Báo cáo tổng kết công tác Mặt trận năm 2023; Chương trình phối hợp "
                 "thống nhất hành động năm 2024; Báo cáo tổng kết các chuyên đề công "
                 "tác năm 2023.")),
    SeedTask(4, 11, "Hội nghị Ủy ban MTTQ tỉnh lần thứ mười", VP, [],
             due_month=12, due_note=None,
             text=(
                 "Tổ chức Hội nghị Ủy ban MTTQ Việt Nam tỉnh Yên Bái lần thứ mười, "
                 "khóa XV tổng kết Chương trình phối hợp thống nhất hành động của Uỷ "
                 "ban MTTQ Việt Nam tỉnh Yên Bái  năm 2023 và đề ra Chương trình phối "
                 "hợp thống nhất hành động năm 2024 (tháng 12).")),
]


def seed_tasks(session: Session, program: Program) -> int:
    """Create the province plan's tasks once; returns how many were created (0 when present)."""
    has_any = session.exec(select(Task.id).where(
        Task.program_id == program.id, Task.plan_unit_id == program.root_unit_id,
        Task.is_addition == False)).first()  # noqa: E712
    if has_any is not None:
        return 0
    indicators = {i.code: i.id for i in session.exec(
        select(Indicator).where(Indicator.program_id == program.id)).all()}
    created = 0
    for st in TASKS:
        task = _task(program, st.quarter, st.number, st.title, st.text, st.department,
                     st.due_month, st.due_note)
        session.add(task)
        session.flush()
        _link(session, task, st.links, indicators)
        created += 1
        for i, sub in enumerate(st.subs, 1):
            child = _task(program, st.quarter, i, sub.title, sub.text, st.department, None, None)
            child.parent_id = task.id
            session.add(child)
            session.flush()
            _link(session, child, sub.links, indicators)
    session.flush()
    return created


def _task(program: Program, quarter: int, number: int, title: str, text: str, department: str,
          due_month: int | None, due_note: str | None) -> Task:
    return Task(program_id=program.id, plan_unit_id=program.root_unit_id, quarter=quarter,
                number=number, title=title, text=text, due_month=due_month, due_note=due_note,
                lead_unit_id=program.root_unit_id, lead_department=department)


def _link(session: Session, task: Task, codes: list[str], indicators: dict[str, int]) -> None:
    for code in codes:
        session.add(TaskIndicator(task_id=task.id, indicator_id=indicators[code]))
