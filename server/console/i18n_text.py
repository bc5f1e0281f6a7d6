"""The console's words: every label in Vietnamese and English, one term per thing.

The terms are the PWA's where the PWA names the same thing (``pwa/js/i18n.js``): the
vehicle description is "Mô tả phương tiện", the reporter's note "Ghi chú", the vehicle
classes, the location sources. Report statuses and decision reason codes are not
repeated here: they come from :mod:`server.reasons` (what the reporter is shown).

Each entry is ``(Vietnamese, English)``; ``{name}`` placeholders are filled by
:func:`server.console.i18n.t`.
"""

from __future__ import annotations

Pair = tuple[str, str]

TEXT: dict[str, Pair] = {
    # layout
    "app.console": ("Bàn xét duyệt", "Review console"),
    "nav.main": ("Điều hướng chính", "Main navigation"),
    "nav.queue": ("Hàng đợi", "Queue"),
    "nav.reveals": ("Nhật ký tiết lộ", "Reveal log"),
    "nav.audit": ("Nhật ký thao tác", "Audit log"),
    "nav.units": ("Đơn vị", "Units"),
    "units.title": ("Đơn vị xử lý", "Police units"),
    "units.intro": (
        "Mỗi xã, phường, đặc khu do công an xã, phường, đặc khu của mình xử lý. Các đơn vị "
        "dưới đây (ví dụ đội cảnh sát giao thông) phụ trách các địa bàn đã giao; nhập tệp CSV "
        "có các cột code, name, areas (mã các địa bàn, cách nhau bằng dấu cách).",
        "Each commune, ward or special zone is handled by its own police. The units below "
        "(e.g. traffic-police teams) handle the areas assigned to them; import a CSV with "
        "the columns code, name, areas (area codes separated by spaces).",
    ),
    "units.csv": ("Tệp CSV đơn vị", "Units CSV file"),
    "units.import": ("Nhập", "Import"),
    "units.name": ("Đơn vị", "Unit"),
    "units.areas": ("Địa bàn phụ trách", "Areas covered"),
    "units.none": (
        "Chưa có đơn vị nào ngoài công an xã, phường.",
        "No units besides the communes' own police.",
    ),
    "units.rejected": (
        "Tệp có dòng không hợp lệ, chưa nhập gì: {detail}",
        "A line of the file is wrong, nothing was imported: {detail}",
    ),
    "units.no_file": ("Hãy chọn tệp CSV.", "Choose a CSV file."),
    "units.not_utf8": ("Tệp phải là CSV mã hóa UTF-8.", "The file must be a UTF-8 CSV."),
    "units.imported": (
        "Đã nhập: {created} đơn vị mới, {updated} đơn vị đổi tên; {moved} vụ việc chuyển đơn vị.",
        "Imported: {created} new units, {updated} renamed; {moved} cases moved.",
    ),
    "nav.logout": ("Đăng xuất", "Log out"),
    "nav.lang": ("Ngôn ngữ", "Language"),
    "nav.who": ("{name} ({role})", "{name} ({role})"),
    # login
    "login.title": ("Đăng nhập", "Log in"),
    "login.rate": (
        "Đăng nhập sai quá nhiều lần; hãy thử lại sau {minutes} phút.",
        "Too many failed attempts; try again in {minutes} minutes.",
    ),
    "login.bad": (
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    ),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    # queue
    "queue.title": ("Hàng đợi", "Queue"),
    "queue.heading": ("Hàng đợi vụ việc", "Case queue"),
    "queue.count": ("{n} vụ việc", "{n} cases"),
    "queue.districts": ("Địa bàn: {districts}", "Areas: {districts}"),
    "queue.more": ("và {n} xã, phường khác", "and {n} more"),
    "queue.all_districts": ("tất cả", "all"),
    "queue.filters": ("Lọc vụ việc", "Filter cases"),
    "queue.since": ("Từ ngày", "From"),
    "queue.until": ("Đến ngày", "To"),
    "queue.filter": ("Lọc", "Filter"),
    "queue.reports": ("Số phản ánh", "Reports"),
    "queue.empty": ("Không có vụ việc nào", "No cases"),
    "queue.pages": ("Phân trang", "Pages"),
    "queue.prev": ("← Trang trước", "← Previous"),
    "queue.next": ("Trang sau →", "Next →"),
    "queue.page": ("Trang {page}/{pages}", "Page {page} of {pages}"),
    "queue.state": ("Hiển thị", "Show"),
    "queue.state.pending": ("Chờ xử lý", "Awaiting a decision"),
    "queue.state.decided": ("Đã kết luận", "Decided"),
    "queue.state.all": ("Tất cả", "All"),
    "queue.state.awaiting": ("Chờ bằng chứng", "Awaiting evidence"),
    "queue.awaiting_badge": ("Chờ bằng chứng", "Awaiting evidence"),
    # a reporter's answer to a request for information (issue 26)
    "queue.flag": ("Cảnh báo", "Warning"),
    "queue.flags": ("Cảnh báo", "Warnings"),
    "queue.answered_badge": ("Đã bổ sung {at}", "Information added {at}"),
    "queue.overdue_badge": ("Quá hạn bổ sung", "Answer overdue"),
    "queue.awaiting_note": (
        "Các vụ việc này chưa nhận được ảnh/video nào nên chưa vào hàng đợi xét duyệt. "
        "Phản ánh không có bằng chứng sau {hours} giờ sẽ hết hạn và tự rời khỏi danh sách.",
        "No photo or video of these cases has arrived yet, so they are not in the review "
        "queue. A report still without evidence after {hours} hours expires and leaves "
        "this list.",
    ),
    "queue.verdict": ("Kết luận", "Verdict"),
    "queue.pick": ("Chọn vụ việc {id}", "Select case {id}"),
    "queue.pick_all": ("Chọn mọi vụ việc trên trang", "Select every case on the page"),
    "queue.bulk": ("Từ chối hàng loạt", "Reject several"),
    "queue.bulk_reason": ("Lý do từ chối các vụ việc đã chọn", "Reason for the selected cases"),
    "queue.bulk_submit": ("Từ chối các vụ việc đã chọn", "Reject the selected cases"),
    "queue.bulk_confirm": (
        "Từ chối các vụ việc đã chọn? Mỗi người phản ánh trong đó sẽ nhận được lý do.",
        "Reject the selected cases? Every reporter in them will be told the reason.",
    ),
    # push notifications of the queue page (console-push.js)
    "push.enable": ("Bật thông báo", "Turn on notifications"),
    "push.disable": ("Tắt thông báo", "Turn off notifications"),
    "push.on": ("Đang nhận thông báo vụ việc mới", "New-case notifications are on"),
    "push.unsupported": (
        "Trình duyệt này không hỗ trợ thông báo",
        "This browser cannot show notifications",
    ),
    "push.denied": (
        "Thông báo đang bị trình duyệt chặn",
        "Notifications are blocked in this browser",
    ),
    "push.failed": ("Không bật được thông báo. Thử lại sau.", "Could not turn notifications on."),
    # the things every page names
    "f.case": ("Vụ việc", "Case"),
    "f.report": ("Phản ánh", "Report"),
    "f.status": ("Trạng thái", "Status"),
    "f.violation": ("Hành vi vi phạm", "Violation"),
    "f.vehicle": ("Phương tiện", "Vehicle"),
    "f.plate": ("Biển số", "Plate"),
    "f.plate_or_code": ("Biển số hoặc mã phản ánh", "Plate or report code"),
    "f.report_code": ("Mã phản ánh", "Report code"),
    "f.time": ("Thời điểm vi phạm", "Time of the violation"),
    "f.district": ("Địa bàn", "District"),
    "f.desc": ("Mô tả phương tiện", "Vehicle description"),
    "f.note": ("Ghi chú của người báo", "Reporter's note"),
    "f.public_note": (
        "Ghi chú của cán bộ (người báo xem được)",
        "Reviewer's note (the reporter sees it)",
    ),
    "f.internal_note": ("Ghi chú nội bộ", "Internal note"),
    "f.when": ("Thời điểm", "When"),
    "f.who": ("Người thực hiện", "Who"),
    "f.why": ("Lý do", "Reason"),
    "f.action": ("Thao tác", "Action"),
    "f.detail": ("Chi tiết", "Detail"),
    "f.none": ("không có", "none"),
    "f.none_yet": ("Chưa có", "Nothing yet"),
    "f.choose": ("— Chọn —", "— Choose —"),
    "f.any": ("— Tất cả —", "— Any —"),
    # case page
    "case.title": ("Vụ việc {id}", "Case {id}"),
    "case.summary": ("{n} phản ánh · {district}", "{n} reports · {district}"),
    "case.unit": ("Đơn vị xử lý: {unit}", "Handled by: {unit}"),
    "case.opened": ("Mở lúc {at}", "Opened {at}"),
    "case.status": ("Trạng thái vụ việc: {status}", "Case status: {status}"),
    "case.manual": ("tách bằng tay", "split out by hand"),
    "case.decision": ("Quyết định", "Decision"),
    "case.penalty_no": ("Số quyết định xử phạt", "Penalty decision number"),
    "case.verify": ("Xác minh vi phạm", "Verify the violation"),
    "case.reject_reason": ("Lý do từ chối", "Reason for rejecting"),
    "case.reject": ("Từ chối", "Reject"),
    "case.info_needed": ("Cần bổ sung", "Information needed"),
    "case.ask_info": ("Yêu cầu bổ sung", "Ask for more information"),
    "case.forward_to": ("Chuyển đến địa bàn", "Forward to area"),
    "case.forward": ("Chuyển", "Forward"),
    "case.forward_find": (
        "Tìm xã, phường, tỉnh (cả tên cũ)",
        "Find a commune, ward or province (old names too)",
    ),
    "case.forward_find_hint": ("Gõ tên, không cần dấu", "Type a name, accents optional"),
    "case.forward_found": ("{n} địa bàn phù hợp", "{n} matching areas"),
    "case.forward_none": ("Không có địa bàn nào phù hợp", "No district matches"),
    "case.print": ("In hồ sơ", "Print case file"),
    "case.closed": (
        "Vụ việc không còn nhận quyết định: {status}.",
        "This case takes no more decisions: {status}.",
    ),
    "case.reports": ("Phản ánh trong vụ việc", "Reports of the case"),
    "case.officer": ("Cán bộ: {name}", "Officer: {name}"),
    "case.first": ("Người báo đầu tiên", "First reporter"),
    "case.why": ("Lý do vào vụ việc: {reason}", "Why in this case: {reason}"),
    "case.flags": ("Cờ kiểm tra", "Plausibility flags"),
    "case.signature": ("Chữ ký của thiết bị khi chụp", "Device signature at capture"),
    "case.not_received": ("Chưa nhận tệp", "File not received yet"),
    "case.evidence_alt": ("Bằng chứng {n}", "Evidence {n}"),
    "case.exif": ("Dữ liệu EXIF", "EXIF data"),
    "case.no_exif": ("Không có dữ liệu EXIF", "No EXIF data"),
    "case.split_why": ("Lý do tách", "Why split it out"),
    "case.split": ("Tách khỏi vụ việc", "Split out of the case"),
    "case.reveal": ("Tiết lộ danh tính (giám sát)", "Reveal the identity (supervisor)"),
    "case.history": ("Lịch sử", "History"),
    "case.penalty": ("Số quyết định xử phạt: {no}", "Penalty decision no. {no}"),
    "case.quoted": ("{label}: “{text}”", "{label}: “{text}”"),
    "case.location": ("Vị trí", "Location"),
    # a decision reaching several reporters, similar photos, merging by hand (issue 12)
    "case.reach": (
        "Quyết định này sẽ gửi đến {n} người phản ánh.",
        "This decision will reach {n} reporters.",
    ),
    "case.reach_confirm": (
        "Quyết định này sẽ gửi đến {n} người phản ánh. Tiếp tục?",
        "This decision will reach {n} reporters. Go on?",
    ),
    "case.similar": ("Ảnh giống vụ việc {id}", "Similar photo: case {id}"),
    "case.merge_heading": ("Gộp vụ việc", "Merge cases"),
    "case.merge_with": (
        "Gộp với vụ việc (mã vụ việc)",
        "Merge with case (case id)",
    ),
    "case.merge": ("Gộp vào vụ việc này", "Merge into this case"),
    # the verdict at the top, locking and reopening, the penalty decision (issue 12)
    "case.verdict": ("Kết luận: {verdict}", "Verdict: {verdict}"),
    "case.verdict_by": ("{actor}, lúc {at}", "{actor}, at {at}"),
    "case.locked": (
        "Vụ việc đã có kết luận nên bị khoá. Muốn quyết định lại, hãy mở lại vụ việc và "
        "ghi rõ lý do.",
        "The case is decided and locked. To decide again, reopen it and write why.",
    ),
    "case.new_reports": (
        "Có phản ánh mới vào vụ việc sau khi kết luận: mở lại vụ việc để quyết định.",
        "A report joined after the verdict: reopen the case to decide.",
    ),
    "case.evidence_first": ("Bằng chứng", "Evidence"),
    "case.first_photo": (
        "Ảnh đầu tiên ({n}/{total}), của {who}",
        "First photo ({n}/{total}), by {who}",
    ),
    "case.no_photo": ("Chưa có ảnh nào được nhận.", "No photo received yet."),
    "case.plates": ("Biển số", "Plates"),
    "case.all_evidence": ("Xem mọi bằng chứng và EXIF", "All evidence and EXIF"),
    "case.next_case": (
        "Sau khi quyết định, mở vụ việc tiếp theo trong hàng đợi",
        "After the decision, open the next case of the queue",
    ),
    "case.decided_link": ("Vụ việc vừa quyết định: {id}", "The case just decided: {id}"),
    "case.evidence_unseen": (
        "Bạn chưa xem ảnh, video của vụ việc. Vẫn ghi quyết định?",
        "You have not looked at the case's photos or videos. Record the decision anyway?",
    ),
    "case.answers": ("Người báo đã bổ sung", "The reporters added"),
    "case.answer_line": ("{at} · {who}", "{at} · {who}"),
    "case.answer_files": ("{n} tệp bổ sung", "{n} added files"),
    "case.answer_no_text": ("(không có lời nhắn)", "(no message)"),
    "case.answer_file": ("Bổ sung lúc {at}", "Added {at}"),
    "case.overdue": (
        "Quá hạn bổ sung: người báo chưa trả lời yêu cầu từ {at} (quá {days} ngày).",
        "Answer overdue: the reporter has not answered the request of {at} ({days} days).",
    ),
    "case.reopen": ("Mở lại vụ việc", "Reopen the case"),
    "case.reopen_why": ("Lý do mở lại (bắt buộc)", "Why reopen it (required)"),
    "case.penalty_heading": ("Quyết định xử phạt", "Penalty decision"),
    "case.penalty_add": ("Ghi quyết định xử phạt", "Record the penalty decision"),
    "case.penalty_fix": ("Sửa số quyết định xử phạt", "Correct the penalty decision number"),
    "case.penalty_later": (
        "Có thể để trống: ghi số quyết định sau, khi đơn vị đã ra quyết định xử phạt.",
        "May be left empty: add the number later, once the penalty decision is issued.",
    ),
    "case.shortcuts": (
        "Phím tắt: V xác minh · R từ chối · I yêu cầu bổ sung",
        "Shortcuts: V verify · R reject · I ask for information",
    ),
    # the map of a case (console/_map.html)
    "map.title": ("Bản đồ", "Map"),
    "map.place": ("Địa bàn: {place}", "District: {place}"),
    "map.unknown": ("chưa xác định", "not known"),
    "map.points": ("Vị trí các phản ánh", "Where the reports were made"),
    "map.zoom_in": ("Phóng to", "Zoom in"),
    "map.zoom_out": ("Thu nhỏ", "Zoom out"),
    # reveal
    "reveal.title": ("Tiết lộ danh tính", "Reveal the identity"),
    "reveal.heading": ("Tiết lộ danh tính người báo", "Reveal the informant"),
    "reveal.logged": (
        "Mỗi lần tiết lộ được ghi lại (ai, khi nào, phản ánh nào, lý do) và quản trị viên "
        "xem được.",
        "Every reveal is recorded (who, when, which report, why) and shown to administrators.",
    ),
    "reveal.name": ("Họ và tên", "Full name"),
    "reveal.national_id": ("Số CCCD hoặc CMND", "National ID number"),
    "reveal.phone": ("Số điện thoại", "Phone number"),
    "reveal.reason": ("Lý do tiết lộ (bắt buộc)", "Reason for the reveal (required)"),
    "reveal.submit": ("Tiết lộ", "Reveal"),
    "reveal.short": (
        "Hãy ghi rõ lý do (ít nhất 10 ký tự).",
        "Write the reason (at least 10 characters).",
    ),
    "reveal.nobody": ("Phản ánh này không có danh tính.", "This report names nobody."),
    "reveals.title": ("Nhật ký tiết lộ", "Reveal log"),
    "reveals.heading": ("Nhật ký tiết lộ danh tính", "Identity reveal log"),
    "reveals.scope": (
        "Các lần tiết lộ danh tính do tỉnh của bạn thực hiện, và các lần tiết lộ trước "
        "đó ở tỉnh khác của vụ việc nay thuộc tỉnh của bạn (không kèm lý do).",
        "Reveals made in your province, and earlier reveals made elsewhere of cases now "
        "in your province (without their reason).",
    ),
    "reveals.elsewhere_who": ("Đơn vị ở tỉnh/thành khác", "A unit in another province"),
    "reveals.elsewhere_why": (
        "Đã có một lần tiết lộ trước khi vụ việc được chuyển đến; lý do do đơn vị đó lưu giữ.",
        "Revealed before the case was forwarded here; the reason stays with that unit.",
    ),
    # audit
    "audit.title": ("Nhật ký thao tác", "Audit log"),
    "audit.new_case": ("vụ việc mới {id}", "new case {id}"),
    "audit.case": ("vụ việc {id}", "case {id}"),
    # flashes after a decision
    "flash.decided": ("Đã ghi quyết định.", "Decision recorded."),
    "flash.split": ("Đã tách phản ánh thành vụ việc mới.", "Report split out into a new case."),
    "flash.forwarded": ("Đã chuyển vụ việc.", "Case forwarded."),
    "flash.merged": ("Đã gộp vụ việc.", "Cases merged."),
    "flash.penalty": ("Đã ghi quyết định xử phạt.", "Penalty decision recorded."),
    "flash.reopened": ("Đã mở lại vụ việc.", "Case reopened."),
    "flash.bulk_rejected": ("Đã từ chối {n} vụ việc.", "{n} cases rejected."),
    # actors in histories
    "actor.system": ("Hệ thống", "System"),
    "actor.cli": ("Quản trị viên (dòng lệnh)", "Administrator (command line)"),
    "actor.unknown": ("Không rõ", "Unknown"),
    # error pages
    "error.back": ("Về hàng đợi", "Back to the queue"),
    "error.login": ("Đăng nhập", "Log in"),
    "error.code": ("Mã lỗi {status}", "Error {status}"),
    # statistics, exports and accident figures (console/stats.html, accidents.html; issue 13)
    "nav.stats": ("Thống kê", "Statistics"),
    "stats.title": ("Thống kê", "Statistics"),
    "stats.heading": ("Thống kê phản ánh và vụ việc", "Reports and cases in figures"),
    "stats.period": ("Kỳ báo cáo", "Period"),
    "stats.nine_months": ("9 tháng đầu năm {year}", "First nine months of {year}"),
    "stats.whole_year": ("Cả năm {year}", "Whole year {year}"),
    "stats.from": ("Từ ngày", "From"),
    "stats.to": ("Đến ngày", "To"),
    "stats.area": ("Địa bàn", "Area"),
    "stats.all_area": ("Toàn bộ địa bàn được xem", "Everything you may see"),
    "stats.show": ("Xem số liệu", "Show"),
    "stats.unit": ("Đơn vị: {unit}", "Unit: {unit}"),
    "stats.unit_all": ("Toàn quốc", "The whole country"),
    "stats.unit_province": ("Công an {name}", "Police of {name}"),
    "stats.unit_none": ("Chưa được giao địa bàn", "No district assigned"),
    "stats.period_line": (
        "Từ {start} đến {end}, so với cùng kỳ năm trước ({prev_start} – {prev_end})",
        "From {start} to {end}, against the same days a year earlier ({prev_start} – {prev_end})",
    ),
    "stats.export_xlsx": ("Tải báo cáo (Excel)", "Download the review (Excel)"),
    "stats.export_csv": ("Tải danh sách vụ việc (CSV)", "Download the cases (CSV)"),
    "stats.enter_figures": ("Nhập số liệu tai nạn giao thông", "Enter road accident figures"),
    "stats.scope_note": (
        "Tính theo thời điểm vi phạm (giờ Việt Nam). Phản ánh được tính ở nơi vi phạm, vụ "
        "việc ở địa bàn đang xử lý.",
        "Counted by the time of the violation (Vietnam time). Reports count where they were "
        "made, cases in the district that handles them.",
    ),
    "stats.key_figures": ("Số liệu chính", "Key figures"),
    "stats.measure": ("Chỉ tiêu", "Measure"),
    "stats.this_period": ("Kỳ này", "This period"),
    "stats.year_earlier": ("Cùng kỳ năm trước", "A year earlier"),
    "stats.change": ("Tăng, giảm", "Change"),
    "stats.share": ("Tỷ lệ", "Share"),
    "stats.reports": ("Số phản ánh", "Reports"),
    "stats.cases": ("Số vụ việc", "Cases"),
    "stats.verified": ("Vụ việc đã xác minh vi phạm", "Cases verified"),
    "stats.rejected": ("Vụ việc không được chấp nhận", "Cases rejected"),
    "stats.awaiting": ("Vụ việc đang chờ xử lý", "Cases awaiting a decision"),
    "stats.source_citizen": ("Phản ánh của người dân", "Reports by citizens"),
    "stats.source_officer": ("Phản ánh của cán bộ", "Reports by officers"),
    "stats.median": ("Thời gian đến quyết định (trung vị)", "Time to a decision (median)"),
    "stats.p90": (
        "Thời gian đến quyết định (90% phản ánh trong khoảng)",
        "Time to a decision (90th percentile)",
    ),
    "stats.hours": ("{n} giờ", "{n} h"),
    "stats.decided_n": (
        "Thời gian tính từ khi nhận phản ánh đến quyết định đầu tiên, trên {n} phản ánh đã có "
        "quyết định.",
        "From the receipt of a report to its first decision, over {n} decided reports.",
    ),
    "stats.chart_note": ("Số liệu có trong bảng bên dưới.", "The figures are in the tables below."),
    "stats.chart_months": (
        "Phản ánh theo tháng, so với cùng kỳ năm trước",
        "Reports per month, against a year earlier",
    ),
    "stats.chart_violations": (
        "Phản ánh theo hành vi vi phạm (10 hành vi nhiều nhất)",
        "Reports by violation (the 10 most reported)",
    ),
    "stats.chart_status": ("Kết quả xử lý vụ việc", "What became of the cases"),
    "stats.chart_accidents": (
        "Số vụ tai nạn theo tháng, so với năm cơ sở",
        "Road crashes per month, against the base year",
    ),
    "stats.by_month": ("Theo tháng", "By month"),
    "stats.by_week": ("Theo tuần", "By week"),
    "stats.by_violation": ("Theo hành vi vi phạm", "By violation"),
    "stats.by_district": ("Theo địa bàn", "By district"),
    "stats.by_status": ("Theo trạng thái phản ánh", "By report status"),
    "stats.by_reason": ("Lý do không chấp nhận", "Why reports were rejected"),
    "stats.month": ("Tháng", "Month"),
    "stats.week": ("Tuần", "Week"),
    "stats.week_n": ("Tuần {week}/{year}", "Week {week} of {year}"),
    "stats.no_district": ("Chưa xác định địa bàn", "No district"),
    "stats.none": ("Không có số liệu trong kỳ", "Nothing in this period"),
    "stats.repeat": ("Biển số vi phạm nhiều lần", "Repeat offenders"),
    "stats.repeat_note": (
        "Biển số có từ 2 vụ việc đã xác minh vi phạm trở lên trong kỳ.",
        "Plates with 2 or more verified cases in the period.",
    ),
    "stats.repeat_cases": ("Vụ việc đã xác minh", "Verified cases"),
    "stats.last_at": ("Lần vi phạm gần nhất", "Latest violation"),
    "stats.accidents": (
        "Tai nạn giao thông so với năm cơ sở",
        "Road accidents against the base year",
    ),
    "stats.base": ("Năm cơ sở", "Base year"),
    "stats.base_year": ("Năm cơ sở {year}", "Base year {year}"),
    "stats.entered": (
        "Đã nhập số liệu {n} tháng của các địa bàn trong kỳ này, {m} tháng trong năm cơ sở {year}.",
        "{n} district-months entered for this period, {m} for the base year {year}.",
    ),
    "stats.target": ("Đánh giá (mục tiêu giảm 5–10%)", "Assessment (target: 5–10 % fewer)"),
    "stats.target_high": ("Giảm từ 10% trở lên", "10 % or more fewer"),
    "stats.target_low": ("Giảm từ 5% đến dưới 10%", "5 to 10 % fewer"),
    "stats.target_missed": ("Chưa đạt mục tiêu giảm 5%", "Short of the 5 % target"),
    "stats.target_unknown": ("Chưa có số liệu năm cơ sở", "No base-year figures"),
    "stats.acc_crashes": ("Số vụ tai nạn", "Crashes"),
    "stats.acc_deaths": ("Số người chết", "Deaths"),
    "stats.acc_injuries": ("Số người bị thương", "Injuries"),
    "stats.no_accidents": (
        "Chưa có số liệu tai nạn giao thông cho kỳ này.",
        "No road accident figures for this period yet.",
    ),
    "acc.title": ("Số liệu tai nạn giao thông", "Road accident figures"),
    "acc.back": ("← Về trang thống kê", "← Back to the statistics"),
    "acc.enter": ("Nhập số liệu một tháng", "Enter one month"),
    "acc.month": ("Tháng", "Month"),
    "acc.save": ("Lưu số liệu", "Save"),
    "acc.import": ("Nhập từ tệp CSV hoặc Excel", "Import a CSV or Excel sheet"),
    "acc.import_help": (
        "Dòng đầu ghi tên cột: Mã địa bàn, Tháng (ví dụ 03/2026), Số vụ, Số người chết, Số "
        "người bị thương. Mỗi địa bàn một dòng cho mỗi tháng. Nếu có dòng sai, không dòng "
        "nào được ghi.",
        "The first row names the columns: district, month (e.g. 2026-03), crashes, deaths, "
        "injuries. One row per district and month. If any row is wrong, no row is written.",
    ),
    "acc.file": ("Tệp số liệu", "Sheet"),
    "acc.upload": ("Nhập tệp", "Import"),
    "acc.saved": ("Đã lưu số liệu.", "Figures saved."),
    "acc.imported": ("Đã nhập {n} dòng số liệu.", "{n} rows imported."),
    "acc.rejected": (
        "Chưa nhập dòng nào. Sửa các dòng sau rồi nhập lại cả tệp:",
        "Nothing was imported. Fix these rows, then import the whole sheet again:",
    ),
    "acc.line": ("Dòng {line}", "Line {line}"),
    "acc.recent": ("Số liệu đã nhập", "Figures entered"),
    "acc.entered_by": ("Người nhập", "Entered by"),
    "hot.title": ("Bản đồ điểm nóng", "Hotspot map"),
    "hot.heading": ("Bản đồ điểm nóng vi phạm", "Where violations cluster"),
    "hot.cell": ("Kích thước ô lưới", "Grid cell size"),
    "hot.cell_m": ("Ô {m} m", "{m} m cells"),
    "hot.note": (
        "Số phản ánh trong mỗi ô lưới vuông, theo nơi vi phạm; đường viền là các xã, phường "
        "có nhiều phản ánh nhất.",
        "Reports per square grid cell, where they were made; the outlines are the areas "
        "with the most reports.",
    ),
    "hot.map": ("Bản đồ điểm nóng", "Hotspot map"),
    "hot.reports_n": ("{n} phản ánh", "{n} reports"),
    "hot.top": ("Các điểm nhiều phản ánh nhất", "Places with the most reports"),
    "hot.place": ("Nơi vi phạm", "Place"),
}

# History lines: one sentence per case event. Fields: {actor}, {report} and {partner}
# (pseudonyms), {other} (a short case id), {reason}, {from} and {to} (districts),
# {from_unit} and {to_unit}.
EVENTS: dict[str, Pair] = {
    "report_expired": (
        "{actor}: phản ánh của {report} hết hạn vì ảnh/video không được gửi tới, và rời khỏi "
        "vụ việc.",
        "{actor}: the report of {report} expired because its photos/videos never arrived, "
        "and left the case.",
    ),
    "absorbed": (
        "{actor} gộp vụ việc {other} vào vụ việc này do {reason} ({report} và {partner}).",
        "{actor} merged case {other} into this case: {reason} ({report} and {partner}).",
    ),
    "merged": (
        "{actor} gộp vụ việc này vào vụ việc {other} do {reason}.",
        "{actor} merged this case into case {other}: {reason}.",
    ),
    "split": (
        "{actor} tách phản ánh của {report} sang vụ việc mới {other}.",
        "{actor} split the report of {report} out into new case {other}.",
    ),
    "opened": (
        "{actor} mở vụ việc này bằng cách tách phản ánh của {report} khỏi vụ việc {other}.",
        "{actor} opened this case by splitting the report of {report} out of case {other}.",
    ),
    "forwarded": (
        "{actor} chuyển vụ việc từ {from} sang {to}.",
        "{actor} forwarded the case from {from} to {to}.",
    ),
    "routed": (
        "{actor} giao vụ việc cho {to} theo vị trí phản ánh của {report}.",
        "{actor} routed the case to {to} by the location of {report}'s report.",
    ),
    "routed_by_hand": (
        "{actor} giao vụ việc cho {to} bằng tay (trước đó: {from}).",
        "{actor} placed the case in {to} by hand (before: {from}).",
    ),
    "unit_changed": (
        "{actor} chuyển vụ việc từ đơn vị {from_unit} sang đơn vị {to_unit}.",
        "{actor} moved the case from unit {from_unit} to unit {to_unit}.",
    ),
    "similar_photo": (
        "{actor}: ảnh của {report} giống ảnh trong vụ việc {other}; không gộp tự động "
        "(có thể khác xe, hành vi, nơi hoặc giờ).",
        "{actor}: the photo of {report} looks like a photo of case {other}; not merged "
        "automatically (the vehicle, violation, place or time may differ).",
    ),
    "absorbed_by_hand": (
        "{actor} gộp vụ việc {other} vào vụ việc này.",
        "{actor} merged case {other} into this case.",
    ),
    "merged_by_hand": (
        "{actor} gộp vụ việc này vào vụ việc {other}.",
        "{actor} merged this case into case {other}.",
    ),
    "unmerged": (
        "{actor} tách phản ánh của {report} cùng nhóm của nó trở lại vụ việc {other} "
        "(hoàn tác gộp).",
        "{actor} split the report of {report} and its group back into case {other} (merge undone).",
    ),
    "reopened": (
        "{actor} tách phản ánh của {report} và nhóm của nó khỏi vụ việc {other}, trở lại "
        "vụ việc này (hoàn tác gộp).",
        "{actor} split the report of {report} and its group out of case {other}, back into "
        "this case (merge undone).",
    ),
}

# Labels of codes, per kind of code. Report statuses and reason codes: server.reasons.
LABELS: dict[str, dict[str, Pair]] = {
    "flag": {
        "captured_in_future": (
            "Thời điểm vi phạm ở tương lai",
            "The time of the violation is in the future",
        ),
        "captured_too_old": ("Thời điểm vi phạm đã quá cũ", "The violation is too long ago"),
        "captured_long_before_receipt": (
            "Thời điểm vi phạm khai báo sớm hơn nhiều so với lúc máy chủ nhận bằng chứng",
            "The stated time of the violation is long before the server received the evidence",
        ),
        "no_exif_time": ("Ảnh không có thời gian chụp", "The photo has no capture time"),
        "no_exif_gps": ("Ảnh không có vị trí chụp", "The photo has no location"),
        "exif_time_mismatch": (
            "Thời gian chụp trong ảnh lệch với thời điểm vi phạm",
            "The photo's capture time differs from the time of the violation",
        ),
        "exif_location_mismatch": (
            "Vị trí trong ảnh cách xa nơi vi phạm",
            "The photo's location is far from the place of the violation",
        ),
        "vehicle_class_mismatch": (
            "Lỗi này thường không áp dụng cho loại phương tiện đã chọn",
            "This violation does not usually apply to the chosen vehicle",
        ),
        "unsigned": ("Không có chữ ký của thiết bị", "No device signature"),
        "signature_invalid": (
            "Chữ ký của thiết bị không hợp lệ",
            "The device signature does not verify",
        ),
    },
    "signature": {
        "valid": (
            "Hợp lệ: niêm phong trên điện thoại lúc chụp, tệp và thông tin không bị thay đổi",
            "Valid: sealed on the phone at capture; files and details unchanged",
        ),
        "unsigned": (
            "Không có chữ ký: không chứng minh được tệp chưa bị thay đổi từ lúc chụp",
            "Unsigned: nothing shows the files are unchanged since capture",
        ),
        "invalid": (
            "Không hợp lệ: tệp hoặc thông tin khác với những gì điện thoại đã ký",
            "Invalid: the files or details differ from what the phone signed",
        ),
    },
    "case_status": {
        "open": ("Đang xử lý", "Open"),
        "merged": ("Đã gộp vào vụ việc khác", "Merged into another case"),
        "expired": (
            "Đã đóng: phản ánh hết hạn vì không có bằng chứng",
            "Closed: its reports expired without evidence",
        ),
    },
    # cases.verdict ("": none yet)
    "verdict": {
        "": ("Chờ xử lý", "Awaiting review"),
        "needs_info": ("Chờ người báo bổ sung thông tin", "Waiting for the reporter's information"),
        "verified": (
            "Đã xác minh vi phạm, chờ quyết định xử phạt",
            "Violation verified, penalty decision to follow",
        ),
        "penalty_issued": ("Đã ra quyết định xử phạt", "Penalty decision issued"),
        "rejected": ("Đã từ chối", "Rejected"),
    },
    "vehicle_class": {
        "car": ("Ô tô", "Car"),
        "motorbike": ("Xe máy", "Motorbike"),
        "truck": ("Xe tải", "Truck"),
        "bus": ("Xe khách, buýt", "Bus, coach"),
        "bicycle": ("Xe đạp, xe điện", "Bicycle, e-bike"),
        "other": ("Khác", "Other"),
    },
    "exif": {
        "lat": ("Vĩ độ", "Latitude"),
        "lon": ("Kinh độ", "Longitude"),
        "altitude": ("Độ cao (m)", "Altitude (m)"),
        "taken_at": ("Thời gian chụp", "Taken at"),
        "make": ("Hãng máy ảnh", "Camera make"),
        "model": ("Dòng máy ảnh", "Camera model"),
        "orientation": ("Hướng ảnh", "Orientation"),
    },
    "event": {
        "absorbed": ("Gộp vụ việc khác vào", "Absorbed another case"),
        "merged": ("Gộp vào vụ việc khác", "Merged into another case"),
        "split": ("Tách phản ánh", "Report split out"),
        "opened": ("Mở vụ việc", "Case opened"),
        "forwarded": ("Chuyển địa bàn", "Forwarded"),
        "routed": ("Giao địa bàn", "Routed"),
        "routed_by_hand": ("Giao địa bàn bằng tay", "Routed by hand"),
        "unit_changed": ("Đổi đơn vị xử lý", "Unit changed"),
        "rerouted": ("Chuyển sang địa bàn theo bản đồ mới", "Re-routed to the new map"),
        "similar_photo": ("Ảnh giống vụ việc khác", "Similar photo in another case"),
        "absorbed_by_hand": ("Cán bộ gộp vụ việc khác vào", "Another case merged in by hand"),
        "merged_by_hand": ("Cán bộ gộp vào vụ việc khác", "Merged into another case by hand"),
        "unmerged": ("Hoàn tác gộp vụ việc", "Merge undone"),
        "reopened": ("Tách trở lại thành vụ việc riêng", "Split back into its own case"),
        "report_expired": (
            "Phản ánh hết hạn (không có bằng chứng)",
            "Report expired (no evidence)",
        ),
    },
    "audit": {
        "user_created": ("Tạo tài khoản", "Account created"),
        "password_set": ("Đặt mật khẩu", "Password set"),
        "user_deactivated": ("Khoá tài khoản", "Account deactivated"),
        "login": ("Đăng nhập", "Signed in"),
        "login_guessing": (
            "Đoán mật khẩu từ nhiều địa chỉ: đăng nhập từ nơi mới bị làm chậm",
            "Password guessing from many addresses: sign-ins from new places slowed",
        ),
        "logout": ("Đăng xuất", "Signed out"),
        "case_verify": ("Xác minh vi phạm", "Violation verified"),
        "case_reject": ("Từ chối vụ việc", "Case rejected"),
        "case_needs_info": ("Yêu cầu bổ sung thông tin", "More information requested"),
        "case_penalty_issued": ("Ghi quyết định xử phạt", "Penalty decision recorded"),
        "case_reopened": ("Mở lại vụ việc đã kết luận", "Decided case reopened"),
        "report_split": ("Tách phản ánh khỏi vụ việc", "Report split out"),
        "case_forwarded": ("Chuyển vụ việc sang địa bàn khác", "Case forwarded"),
        "case_rerouted": ("Chuyển vụ việc theo ranh giới mới", "Case re-routed (new boundaries)"),
        "units_imported": ("Nhập danh sách đơn vị", "Units imported"),
        "cases_merged": ("Gộp hai vụ việc", "Cases merged"),
        "identity_revealed": ("Tiết lộ danh tính người báo", "Informant's identity revealed"),
        "officer_device_issued": ("Cấp mã thiết bị cho cán bộ", "Officer device issued"),
        "accidents_entered": ("Nhập số liệu tai nạn giao thông", "Accident figures entered"),
        "accidents_imported": ("Nhập tệp số liệu tai nạn giao thông", "Accident sheet imported"),
    },
    "decision": {
        "verify": ("Xác minh vi phạm", "Violation verified"),
        "reject": ("Từ chối", "Rejected"),
        "needs_info": ("Yêu cầu bổ sung thông tin", "More information requested"),
        "split": ("Tách phản ánh", "Report split out"),
        "forward": ("Chuyển vụ việc", "Case forwarded"),
        "merge": ("Gộp vụ việc", "Cases merged"),
        "penalty": ("Ra quyết định xử phạt", "Penalty decision issued"),
        "reopen": ("Mở lại vụ việc", "Case reopened"),
    },
    # Why a report is in its case (reports.join_reason; None: it opened the case), and
    # the reason of a merge or split in the history.
    "join": {
        "": ("Phản ánh này mở vụ việc", "This report opened the case"),
        "same_media": ("Cùng tệp ảnh/video", "The same photo or video file"),
        "similar_media": ("Ảnh gần giống, cùng nơi và giờ", "A similar photo, same place and time"),
        "same_plate": (
            "Trùng biển số, hành vi vi phạm, nơi và giờ",
            "The same plate, violation, place and time",
        ),
        "split": ("Cán bộ tách bằng tay", "Split out by a reviewer"),
        "merged_by_hand": ("Cán bộ gộp vụ việc bằng tay", "Cases merged by a reviewer"),
    },
    "location_source": {
        "gps": ("GPS điện thoại", "phone GPS"),
        "exif": ("theo ảnh", "from the photo"),
        "manual": ("nhập tay", "entered by hand"),
    },
    "role": {
        "officer": ("Cán bộ tuần tra", "Patrol officer"),
        "reviewer": ("Cán bộ xét duyệt", "Reviewer"),
        "supervisor": ("Cán bộ giám sát", "Supervisor"),
        "admin": ("Quản trị viên", "Administrator"),
    },
    # HTTP error pages of the console: (title, explanation) as two tables.
    "error_title": {
        "400": ("Yêu cầu không hợp lệ", "Bad request"),
        "csrf": ("Biểu mẫu đã hết hạn", "The form has expired"),
        "401": ("Cần đăng nhập", "Please log in"),
        "403": ("Không có quyền truy cập", "Access denied"),
        "404": ("Không tìm thấy", "Not found"),
        "405": ("Không thực hiện được thao tác này", "Not allowed"),
        "413": ("Dữ liệu gửi lên quá lớn", "Too much data"),
        "429": ("Quá nhiều yêu cầu", "Too many requests"),
    },
    "error_text": {
        "400": ("Máy chủ không hiểu yêu cầu này.", "The server did not understand the request."),
        "csrf": (
            "Phiên làm việc đã hết hạn hoặc trang đã cũ. Hãy tải lại trang rồi thử lại.",
            "The session expired or the page is out of date. Reload the page and try again.",
        ),
        "401": (
            "Phiên đăng nhập đã kết thúc. Hãy đăng nhập lại.",
            "Your session has ended. Please log in again.",
        ),
        "403": (
            "Tài khoản của bạn không được mở trang này.",
            "Your account may not open this page.",
        ),
        "404": (
            "Không có trang hoặc vụ việc này trong địa bàn của bạn.",
            "There is no such page or case in your districts.",
        ),
        "405": ("Trang này không nhận thao tác đó.", "This page does not accept that action."),
        "413": ("Hãy gửi ít dữ liệu hơn.", "Send less data."),
        "429": ("Hãy đợi một lát rồi thử lại.", "Wait a moment and try again."),
    },
    # Refusals of reviewers' decisions (server.services.review.DecisionError), by message.
    "decision_error": {
        "unknown decision": ("Quyết định không hợp lệ.", "Unknown decision."),
        "the case is not open": (
            "Vụ việc không còn mở để quyết định.",
            "The case is no longer open.",
        ),
        "the case is decided: reopen it first": (
            "Vụ việc đã có kết luận: hãy mở lại vụ việc trước.",
            "The case is decided: reopen it first.",
        ),
        "only a verified case can get a penalty decision": (
            "Chỉ vụ việc đã xác minh vi phạm mới ghi được quyết định xử phạt.",
            "Only a verified case can get a penalty decision.",
        ),
        "write the penalty decision number": (
            "Hãy nhập số quyết định xử phạt.",
            "Write the penalty decision number.",
        ),
        "only a decided case can be reopened": (
            "Chỉ mở lại được vụ việc đã có kết luận.",
            "Only a decided case can be reopened.",
        ),
        "write why the case is reopened": (
            "Hãy ghi rõ lý do mở lại (ít nhất 10 ký tự).",
            "Write why the case is reopened (at least 10 characters).",
        ),
        "choose at least one case": ("Hãy chọn ít nhất một vụ việc.", "Choose at least one case."),
        "too many cases at once": (
            "Chọn quá nhiều vụ việc một lúc (tối đa 50).",
            "Too many cases at once (50 at most).",
        ),
        "choose a rejection reason from the list": (
            "Hãy chọn lý do từ chối trong danh sách.",
            "Choose a reason for rejecting from the list.",
        ),
        "choose what information is needed from the list": (
            "Hãy chọn thông tin cần bổ sung trong danh sách.",
            "Choose the information needed from the list.",
        ),
        "the case has no reports": ("Vụ việc không có phản ánh nào.", "The case has no reports."),
        "write why the report is split out": (
            "Hãy ghi lý do tách phản ánh.",
            "Write why the report is split out.",
        ),
        "the report is not in this case": (
            "Phản ánh không thuộc vụ việc này.",
            "The report is not in this case.",
        ),
        "this report cannot be split out": (
            "Không tách được phản ánh này.",
            "This report cannot be split out.",
        ),
        "unknown district": ("Không có địa bàn này.", "Unknown district."),
        "the case cannot be forwarded there": (
            "Không chuyển được vụ việc đến địa bàn đó.",
            "The case cannot be forwarded there.",
        ),
        "the case has changed: check who the decision reaches": (
            "Vụ việc đã thay đổi (số người phản ánh khác với trang đã xem). Hãy xem lại "
            "rồi quyết định.",
            "The case has changed (another number of reporters than the page showed). "
            "Check it again, then decide.",
        ),
        "no open case with that id in your districts": (
            "Không có vụ việc đang mở nào mang mã đó trong địa bàn của bạn.",
            "No open case with that id in your districts.",
        ),
        "a case cannot be merged with itself": (
            "Không thể gộp vụ việc với chính nó.",
            "A case cannot be merged with itself.",
        ),
        "only cases of the same district can be merged": (
            "Chỉ gộp được các vụ việc cùng địa bàn.",
            "Only cases of the same district can be merged.",
        ),
        "these cases cannot be merged": (
            "Không gộp được hai vụ việc này.",
            "These cases cannot be merged.",
        ),
    },
    # What is wrong with accident figures entered or a row of an imported sheet (issue 13).
    "accident_error": {
        "district_unknown": ("Không có mã địa bàn này", "Unknown district code"),
        "district_outside": (
            "Địa bàn ngoài phạm vi bạn được nhập số liệu",
            "A district you may not enter figures for",
        ),
        "month": ("Tháng không hợp lệ (ví dụ 03/2026)", "Not a valid month (e.g. 2026-03)"),
        "number": (
            "Số vụ, số người chết, số người bị thương phải là số nguyên không âm",
            "Crashes, deaths and injuries must be whole numbers, 0 or more",
        ),
        "duplicate": (
            "Trùng địa bàn và tháng với một dòng phía trên",
            "The same district and month as a row above",
        ),
        "empty": ("Tệp không có dòng số liệu nào", "The sheet has no rows of figures"),
        "header": (
            "Dòng tiêu đề thiếu cột (Mã địa bàn, Tháng, Số vụ, Số người chết, Số người bị thương)",
            "The heading row lacks a column (district, month, crashes, deaths, injuries)",
        ),
        "format": ("Không đọc được tệp (cần CSV hoặc XLSX)", "Cannot read the file (CSV or XLSX)"),
        "encoding": ("Tệp CSV phải mã hoá UTF-8", "The CSV file must be UTF-8"),
        "too_big": ("Tệp quá lớn (tối đa 2 MB)", "The file is too large (2 MB at most)"),
        "too_many": ("Tệp quá nhiều dòng (tối đa 5.000)", "Too many rows (5,000 at most)"),
    },
}

# What an unknown code shows (it is also logged): never the raw code.
FALLBACK: dict[str, Pair] = {
    "flag": ("Cờ kiểm tra chưa rõ", "Unrecognised check"),
    "signature": ("Chưa rõ kết quả kiểm tra chữ ký", "Signature check unknown"),
    "violation": ("Hành vi vi phạm chưa rõ", "Unknown violation"),
    "report_status": ("Trạng thái chưa rõ", "Unknown status"),
    "case_status": ("Trạng thái chưa rõ", "Unknown status"),
    "verdict": ("Kết luận chưa rõ", "Unknown verdict"),
    "vehicle_class": ("Phương tiện chưa rõ", "Unknown vehicle"),
    "exif": ("Trường EXIF khác", "Other EXIF field"),
    "event": ("Thay đổi khác của vụ việc", "Another change of the case"),
    "audit": ("Thao tác khác", "Another action"),
    "decision": ("Quyết định khác", "Another decision"),
    "reason": ("Lý do khác", "Another reason"),
    "join": ("Lý do khác", "Another reason"),
    "location_source": ("nguồn vị trí khác", "another source"),
    "role": ("Vai trò khác", "Another role"),
    "error_title": ("Đã có lỗi", "Something went wrong"),
    "error_text": ("Thao tác chưa thực hiện được.", "The request could not be completed."),
    "decision_error": ("Chưa thực hiện được quyết định.", "The decision was not recorded."),
    "accident_error": ("Dòng số liệu không hợp lệ", "A row that cannot be used"),
}

# The evidence package (issue 16, item 4): the case page's button, the audit log's entry.
TEXT.update(
    {
        "case.evidence_package": ("Tải gói bằng chứng", "Download the evidence package"),
        "case.evidence_package_hint": (
            "Tệp ZIP gồm tệp gốc, chữ ký, chuỗi lưu giữ; không có danh tính người báo tin.",
            "A ZIP of the original files, signatures and custody trail; no informant identity.",
        ),
    }
)
LABELS["audit"]["evidence_export"] = ("Xuất gói bằng chứng", "Evidence package exported")

# Camera provenance (issue 16, item 2): a media file's C2PA Content Credentials
# (server.provenance) on the case page; "none" is neutral, not a warning.
TEXT.update(
    {
        "case.provenance": ("Thông tin xác thực nội dung (C2PA)", "Content Credentials (C2PA)"),
        "case.provenance_signer": ("người ký: {name}", "signed by: {name}"),
        "case.ai_generated": (
            "Ảnh/video do trí tuệ nhân tạo (AI) tạo ra",
            "AI-generated photo/video",
        ),
    }
)
LABELS["provenance"] = {
    "signed": ("Máy ảnh đã ký, chưa chỉnh sửa", "camera-signed, unedited"),
    "untrusted": (
        "có chữ ký, nhưng người ký không thuộc danh sách tin cậy",
        "signed, but the signer is not on the trust list",
    ),
    "edited": ("đã chỉnh sửa", "edited"),
    "invalid": ("chữ ký không hợp lệ", "invalid"),
    "none": ("không có", "not present"),
}
FALLBACK["provenance"] = ("Chưa rõ kết quả kiểm tra", "Check result unknown")

# The per-violation evidence checklist beside the evidence on the case page (issue 16.5,
# server/services/checklist.py); the items' own wording is data/evidence_checklist.json.
TEXT.update(
    {
        "case.checklist": ("Bằng chứng cần có", "What the evidence must show"),
        "case.checklist_hint": (
            "Theo danh mục bằng chứng của từng hành vi (Nghị định 135/2021/NĐ-CP). Máy tự "
            "đánh dấu những gì kiểm tra được từ các tệp đã nhận (có video, hai ảnh cách nhau "
            "đủ lâu theo giờ chụp); các mục khác cán bộ xem ảnh, video để kết luận.",
            "From the evidence checklist of each violation (Decree 135/2021/NĐ-CP). What "
            "can be checked from the files received (a video, two photos far enough apart "
            "by their capture times) is marked automatically; the reviewer judges the rest "
            "from the photos and videos.",
        ),
        "case.checklist_for": ("Hành vi: {name}", "Violation: {name}"),
    }
)
LABELS["checklist"] = {
    "met": ("Đạt", "Met"),
    "not_met": ("Còn thiếu", "Missing"),
    "to_check": ("Cán bộ kiểm tra", "For the reviewer to check"),
}
FALLBACK["checklist"] = ("Chưa rõ", "Unknown")
