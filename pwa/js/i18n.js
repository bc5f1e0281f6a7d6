/**
 * Vietnamese first (the default whatever the browser's language), English on request:
 * ?lang=en, or the switch in Settings. The HTML carries the Vietnamese text; elements
 * with data-i18n (text), data-i18n-ph (placeholder) or data-i18n-aria (aria-label) are
 * re-labelled when the language is English.
 */

const STRINGS = {
  vi: {
    app_title: 'Phản ánh vi phạm giao thông',
    net_online: 'Có mạng',
    net_offline: 'Ngoại tuyến',
    tab_capture: 'Báo vi phạm',
    tab_reports: 'Phản ánh của tôi',
    tab_settings: 'Cài đặt',
    update_available: 'Có phiên bản mới của ứng dụng.',
    update_now: 'Cập nhật',
    update_later: 'Để sau',
    update_deferred: 'Sẽ cập nhật ngay khi bạn lưu xong phản ánh và việc gửi kết thúc.',
    replaced: 'Ứng dụng vừa được cập nhật ở tab khác. Hãy tải lại trang khi tiện.',
    reload: 'Tải lại',

    sec_media: 'Ảnh hoặc video',
    btn_photo: 'Chụp ảnh',
    btn_video: 'Quay video',
    btn_gallery: 'Thư viện',
    media_hint: 'Tối đa 10 tệp. Chụp rõ biển số và hành vi vi phạm.',
    media_remove: 'Bỏ tệp này',
    media_video: 'Video',
    exif_ok: 'Chụp lúc {time} · có vị trí',
    exif_time_only: 'Chụp lúc {time}',
    exif_no_time: 'Ảnh không có thời gian chụp',
    exif_no_place: 'Ảnh không có vị trí chụp',
    exif_time_far: 'Chụp cách đây {age}',
    exif_place_far: 'Vị trí trong ảnh cách bạn {dist}',
    video_no_exif: 'Video: không đọc được thời gian và vị trí',

    sec_location: 'Vị trí vi phạm',
    loc_off: 'Cần vị trí để cán bộ tìm được nơi vi phạm.',
    loc_asking: 'Đang xin quyền truy cập vị trí…',
    loc_waiting: 'Đang tìm vị trí… Chưa bắt được tín hiệu GPS.',
    loc_waiting_long: 'Chưa bắt được tín hiệu GPS. Ra chỗ thoáng, hoặc nhập vị trí thủ công.',
    loc_fix: '±{acc} m',
    loc_poor: 'Sai số lớn: ra chỗ thoáng hoặc nhập vị trí thủ công.',
    loc_denied: 'Chưa có quyền truy cập vị trí. Cho phép trong cài đặt trình duyệt, hoặc nhập vị trí thủ công.',
    loc_unavailable: 'Điện thoại không cung cấp được vị trí. Hãy nhập vị trí thủ công.',
    btn_locate: 'Lấy vị trí hiện tại',
    btn_manual: 'Nhập thủ công',
    btn_map: 'Chọn trên bản đồ',
    map_title: 'Chọn vị trí vi phạm',
    map_hint: 'Chạm vào bản đồ để đặt điểm, kéo điểm để chỉnh cho đúng.',
    map_use: 'Dùng vị trí này',
    map_tap: 'Chưa chọn điểm: chạm vào bản đồ.',
    map_pin: 'Vị trí vi phạm (kéo để chỉnh)',
    map_outlines_only: 'Bản đồ chỉ có ranh giới xã, phường (không có bản đồ nền khi ngoại tuyến).',
    map_no_outlines: 'Chưa tải được ranh giới xã, phường: hãy mở lại khi có mạng. Vẫn có thể đặt điểm.',
    place_unknown: 'Ngoài ranh giới đã biết',
    src_map: 'chọn trên bản đồ',
    btn_use_exif: 'Dùng vị trí trong ảnh',
    btn_use_gps: 'Dùng vị trí điện thoại',
    manual_label: 'Vĩ độ, kinh độ',
    manual_ph: 'VD: 21.02851, 105.80482',
    manual_hint: 'Mẹo: nhấn giữ một điểm trên ứng dụng bản đồ để chép toạ độ.',
    manual_invalid: 'Toạ độ chưa đúng. Ví dụ: 21.02851, 105.80482',
    src_gps: 'GPS điện thoại',
    src_exif: 'theo ảnh',
    src_manual: 'nhập tay',

    sec_violation: 'Hành vi vi phạm',
    violation_search_ph: 'Tìm: đèn đỏ, kẹp ba, đậu xe, nẹt pô…',
    violation_results: 'Kết quả tìm kiếm',
    violation_list_label: 'Hoặc chọn trong danh sách',
    fines_title: 'Mức phạt',
    violation_search_label: 'Tìm hành vi vi phạm',
    violation_choose: '— Chọn hành vi vi phạm —',
    violation_count: '{n} kết quả, chạm để chọn',
    violation_count_one: '1 kết quả, chạm để chọn',
    violation_none: 'Không tìm thấy. Thử từ khác, ví dụ "đỗ xe".',
    violation_mismatch: 'Lỗi này thường không áp dụng cho loại phương tiện đã chọn.',
    checklist_title: 'Bằng chứng cần thể hiện',
    checklist_met: 'Đã có',
    checklist_missing: 'Còn thiếu',
    checklist_to_check: 'Bạn tự kiểm tra trong ảnh, video',
    checklist_gap: 'ít nhất {n} ảnh, cách nhau từ {m} phút',
    checklist_warn_title: 'Bằng chứng còn thiếu',
    checklist_warn_text: 'Phản ánh vẫn được tiếp nhận, nhưng thiếu bằng chứng thì khó xử lý. Bạn muốn bổ sung hay vẫn gửi?',
    checklist_add: 'Bổ sung bằng chứng',
    checklist_send_anyway: 'Vẫn gửi',
    catalogue_missing: 'Chưa tải được danh mục vi phạm. Hãy mở ứng dụng khi có mạng một lần.',
    group_hard: 'Khó chứng minh bằng ảnh',

    sec_vehicle: 'Phương tiện',
    vc_car: 'Ô tô',
    vc_motorbike: 'Xe máy',
    vc_truck: 'Xe tải',
    vc_bus: 'Xe khách, buýt',
    vc_bicycle: 'Xe đạp, xe điện',
    vc_other: 'Khác',
    plate_label: 'Biển số',
    plate_ph: 'VD: 30A-123.45',
    plate_norm: 'Biển số chuẩn: {plate}',
    plate_unknown: 'Chưa nhận ra dạng biển số. Vẫn gửi được.',
    plate_ambiguous: 'Ô tô hay xe máy? Chọn loại phương tiện để đọc đúng biển số.',
    desc_label: 'Mô tả phương tiện',
    desc_ph: 'VD: xe con màu trắng, xe máy Honda đỏ',
    note_label: 'Ghi chú',
    note_ph: 'Địa điểm cụ thể, hướng đi, diễn biến…',

    named_summary: 'Báo tin có tên (không bắt buộc)',
    named_explain:
      'Bạn có thể gửi ẩn danh. Nếu để lại tên và số điện thoại, cán bộ có thể liên hệ để xác minh. ' +
      'Công an có trách nhiệm giữ bí mật danh tính người báo tin: thông tin này được mã hoá, ' +
      'không cho người bị phản ánh biết và không bao giờ được ứng dụng hiển thị lại. ' +
      'Sau khi gửi xong, điện thoại cũng xoá bản lưu của nó.',
    name_label: 'Họ và tên',
    nid_label: 'Số CCCD hoặc CMND',
    phone_label: 'Số điện thoại',
    nid_invalid: 'CCCD có 12 chữ số, CMND cũ có 9 chữ số.',
    phone_invalid: 'Số điện thoại Việt Nam: 0xxxxxxxxx hoặc +84xxxxxxxxx.',

    time_label: 'Thời điểm vi phạm',
    time_from_photo: 'theo ảnh',
    time_now: 'lúc chụp',
    submit: 'Lưu và gửi',
    submit_hint: 'Phản ánh được lưu trên điện thoại trước, rồi tự gửi khi có mạng.',
    saving: 'Đang lưu…',
    err_media: 'Hãy thêm ít nhất một ảnh hoặc video.',
    err_location: 'Cần vị trí vi phạm: bật định vị hoặc nhập thủ công.',
    err_violation: 'Hãy chọn hành vi vi phạm.',
    err_vehicle: 'Hãy chọn loại phương tiện.',
    err_too_many: 'Tối đa 10 tệp cho một phản ánh.',
    err_type: 'Không nhận loại tệp này: {name}',
    err_big: 'Tệp quá lớn: {name} (tối đa {max} MB)',
    err_fix: 'Hãy sửa các mục được đánh dấu.',
    saved_toast: 'Đã lưu trên điện thoại. Sẽ tự gửi khi có mạng.',
    view_reports: 'Xem',
    save_storage_full: 'Điện thoại hết bộ nhớ nên chưa lưu được. Hãy giải phóng bộ nhớ rồi bấm lại.',
    save_failed: 'Chưa lưu được phản ánh (lỗi bộ nhớ). Dữ liệu vẫn còn trên màn hình, hãy bấm lại.',

    reports_empty: 'Chưa có phản ánh nào. Phản ánh bạn gửi sẽ hiện ở đây cùng trạng thái xử lý.',
    send_now: 'Gửi ngay',
    queue_waiting: '{n} phản ánh đang chờ gửi',
    queue_done: 'Mọi phản ánh đã được gửi',
    queue_attention: '{n} mục chưa gửi được, cần bạn xử lý',
    officer_signout_confirm: 'Còn {n} phản ánh của bạn chưa gửi xong. Nếu đăng xuất, máy vẫn tự gửi khi có mạng nhưng bạn sẽ không thấy chúng trong danh sách. Vẫn đăng xuất?',
    storage_line: 'Bộ nhớ đang dùng: {used} / còn trống {free}',
    persisted_yes: 'Dữ liệu được bảo vệ khỏi bị trình duyệt tự xoá.',
    persisted_no: 'Trình duyệt có thể xoá dữ liệu khi máy đầy. Hãy thêm ứng dụng vào màn hình chính.',
    state_saved: 'Đã lưu trên máy',
    state_sending: 'Đang gửi {n}%',
    state_sent: 'Đã gửi',
    state_attention: 'Cần xử lý',
    waiting_network: 'Chờ có mạng để gửi',
    next_try: 'Thử lại lúc {time}',
    srv_awaiting_evidence: 'Đang chờ đủ tệp',
    srv_submitted: 'Đã tiếp nhận, chờ xử lý',
    srv_verified: 'Đã xác minh vi phạm',
    srv_penalty_issued: 'Đã ra quyết định xử phạt',
    srv_rejected: 'Không được chấp nhận',
    srv_needs_info: 'Cần bổ sung thông tin',
    srv_expired: 'Đã hết hạn: ảnh/video không được gửi tới kịp thời',
    srv_info_added: 'Đã bổ sung, chờ xem xét',
    srv_reopened: 'Đang xem xét lại',
    answer_title: 'Trả lời yêu cầu bổ sung',
    answer_hint: 'Thêm ảnh, video và một lời nhắn ngắn. Phần bổ sung được lưu trên điện thoại và tự gửi khi có mạng.',
    answer_text: 'Lời nhắn cho cán bộ (không bắt buộc)',
    answer_add_files: 'Thêm ảnh/video',
    answer_send: 'Gửi bổ sung',
    answer_empty: 'Hãy thêm ảnh, video hoặc lời nhắn.',
    answer_saved: 'Đã lưu phần bổ sung trên điện thoại. Sẽ tự gửi khi có mạng.',
    answers_title: 'Bạn đã bổ sung',
    answer_files_n: '{n} tệp',
    answer_no_text: '(không có lời nhắn)',
    answer_state_saved: 'Đã lưu trên máy, chờ gửi',
    answer_state_sending: 'Đang gửi {n}%',
    answer_state_sent: 'Đã gửi',
    answer_state_attention: 'Chưa gửi được',
    answer_retry: 'Gửi lại phần bổ sung',
    welcome_st_attention: 'chưa gửi được; bấm vào phản ánh để xem lý do và thử lại.',
    welcome_st_awaiting_evidence: 'máy chủ đã nhận phản ánh, đang chờ đủ ảnh, video.',
    welcome_st_needs_info: 'cán bộ cần thêm ảnh, video hoặc lời giải thích: bạn trả lời ngay trên phản ánh đó.',
    welcome_st_info_added: 'bạn đã bổ sung; cán bộ sẽ xem xét lại.',
    welcome_st_reopened: 'cán bộ đang xem xét lại kết luận trước.',
    welcome_st_penalty_issued: 'đã có quyết định xử phạt người vi phạm.',
    welcome_st_expired: 'ảnh, video không tới máy chủ kịp thời nên phản ánh hết hạn.',
    reviewer_note: 'Ghi chú của cán bộ',
    rsn_plate_unreadable: 'Không đọc được biển số xe',
    rsn_not_a_violation: 'Không phải hành vi vi phạm',
    rsn_evidence_too_old: 'Bằng chứng đã quá cũ',
    rsn_edited_media: 'Ảnh hoặc video đã bị chỉnh sửa',
    rsn_outside_jurisdiction: 'Ngoài địa bàn quản lý',
    rsn_duplicate: 'Trùng với phản ánh đã được xử lý',
    rsn_insufficient_evidence: 'Bằng chứng chưa đủ rõ',
    rsn_wrong_place_or_time: 'Thời gian hoặc địa điểm không khớp',
    rsn_need_plate_photo: 'Cần ảnh rõ biển số xe',
    rsn_need_wider_view: 'Cần ảnh toàn cảnh nơi vi phạm',
    rsn_need_video: 'Cần video thể hiện hành vi',
    rsn_need_time_place: 'Cần xác nhận thời gian, địa điểm',
    push_offer: 'Nhận thông báo khi phản ánh được xử lý?',
    push_on: 'Bật thông báo',
    push_later: 'Để sau',
    push_title: 'Thông báo',
    push_toggle: 'Thông báo khi phản ánh được xử lý',
    push_blocked: 'Trình duyệt đang chặn thông báo của ứng dụng.',
    push_unsupported: 'Trình duyệt này không hỗ trợ thông báo đẩy.',
    push_failed: 'Không bật được thông báo. Thử lại sau.',
    no_plate: 'Không rõ biển số',

    why_report_conflict: 'Mã phản ánh đã có trên máy chủ với nội dung khác.',
    why_media_id_conflict: 'Mã tệp bị trùng với một phản ánh khác trên máy chủ.',
    why_validation_failed: 'Máy chủ không nhận dữ liệu của phản ánh.',
    why_payload_too_large: 'Tệp quá lớn đối với máy chủ.',
    why_local_copy_damaged: 'Bản lưu trên điện thoại bị hỏng.',
    why_report_expired: 'Phản ánh đã hết hạn vì ảnh/video không được gửi tới kịp thời; máy chủ không nhận tệp nữa. Hãy gửi một phản ánh mới nếu vẫn cần.',
    why_capture_incomplete: 'Việc lưu bị gián đoạn (ứng dụng bị đóng khi đang lưu).',
    why_other: 'Máy chủ từ chối ({code}).',
    attention_help: 'Phản ánh vẫn nằm trên điện thoại. Bạn có thể thử gửi lại hoặc xoá nó.',
    attention_help_rekey:
      'Phản ánh vẫn nằm trên điện thoại. Bạn có thể gửi nó thành phản ánh mới (nội dung và ảnh giữ nguyên) hoặc xoá nó.',

    detail_title: 'Chi tiết phản ánh',
    back: 'Quay lại',
    sealed_note: 'Phản ánh đã được niêm phong trên điện thoại, không thể sửa.',
    f_violation: 'Hành vi',
    f_vehicle: 'Phương tiện',
    f_plate: 'Biển số',
    f_desc: 'Mô tả',
    f_note: 'Ghi chú',
    f_time: 'Thời điểm',
    f_location: 'Vị trí',
    f_place: 'Nơi vi phạm',
    f_named: 'Báo tin có tên',
    f_status: 'Trạng thái',
    f_media: 'Bằng chứng',
    f_id: 'Mã định danh đầy đủ',
    f_code: 'Mã phản ánh',
    code_pending: 'Có khi máy chủ nhận phản ánh',
    f_unit: 'Đơn vị xử lý',
    unit_district: 'Công an {district}, {province}',
    unit_pending: 'Xác định khi máy chủ nhận phản ánh',
    unit_unrouted: 'Đang chờ phân về đơn vị xử lý',
    f_violation_time: 'Thời điểm vi phạm',
    f_saved_time: 'Lưu trên điện thoại lúc',
    f_received_time: 'Máy chủ nhận lúc',
    list_violation_time: 'Vi phạm lúc {time}',
    tech_title: 'Thông tin kỹ thuật',
    f_file: 'Tệp {n}',
    f_mime: 'Loại tệp (MIME)',
    f_bytes: 'Kích thước',
    bytes_exact: '{n} byte',
    yes: 'Có',
    no: 'Không',
    media_received: 'Máy chủ đã nhận đủ',
    media_pending: 'Đã gửi {n}%',
    media_purged: 'Đã xoá khỏi điện thoại (máy chủ giữ bản gốc)',
    retry: 'Thử gửi lại',
    resend_new_id: 'Gửi thành phản ánh mới',
    confirm_resend_new_id:
      'Gửi lại nội dung và bằng chứng này dưới một mã phản ánh mới? Nội dung và ảnh không thay đổi.',
    delete_local: 'Xoá khỏi điện thoại',
    purge: 'Xoá tệp trên điện thoại',
    confirm_delete_unsent:
      'Phản ánh này CHƯA được gửi xong. Nếu xoá, bằng chứng trên điện thoại sẽ mất hẳn. Vẫn xoá?',
    confirm_purge: 'Máy chủ đã nhận đủ {size}. Xoá các tệp này khỏi điện thoại để giải phóng bộ nhớ?',
    confirm_purge_all: 'Xoá {size} ảnh và video đã gửi xong khỏi điện thoại? Máy chủ vẫn giữ bản gốc.',
    confirm_yes: 'Xoá',
    cancel: 'Huỷ',

    lang_title: 'Ngôn ngữ',
    storage_title: 'Bộ nhớ trên điện thoại',
    persist_btn: 'Yêu cầu bảo vệ dữ liệu',
    purge_all: 'Giải phóng {size} (tệp đã gửi xong)',
    nothing_to_purge: 'Chưa có tệp đã gửi xong để xoá.',
    officer_title: 'Cán bộ tuần tra',
    officer_hint: 'Cán bộ đăng nhập để gửi phản ánh dưới tên của mình. Người dân không cần đăng nhập.',
    officer_username: 'Tên đăng nhập',
    officer_password: 'Mật khẩu',
    officer_signin: 'Đăng nhập',
    officer_signout: 'Đăng xuất',
    officer_signed_in: 'Đã đăng nhập: {name} ({user}). Phản ánh mới được gửi dưới tên cán bộ.',
    officer_capturing: 'Gửi với tư cách cán bộ: {name}',
    officer_missing: 'Nhập tên đăng nhập và mật khẩu.',
    officer_invalid_credentials: 'Tên đăng nhập hoặc mật khẩu không đúng.',
    officer_rate_limited: 'Sai quá nhiều lần. Thử lại sau 15 phút.',
    officer_network: 'Cần có mạng để đăng nhập. Thử lại khi có mạng.',
    officer_other: 'Không đăng nhập được ({code}). Thử lại sau.',
    officer_unsent: 'Còn {n} phản ánh cán bộ chưa gửi xong. Gửi hoặc xoá chúng trước khi đăng xuất.',
    officer_signed_out_unsent:
      'Đã đăng xuất. {n} phản ánh của cán bộ chưa gửi xong vẫn được tự gửi dưới tên cán bộ, nhưng không còn hiện trong danh sách.',
    why_officer_signed_out: 'Cán bộ đã đăng xuất hoặc tài khoản bị khoá. Đăng nhập lại trong Cài đặt rồi thử gửi lại.',
    about_title: 'Giới thiệu',
    about_text:
      'RoadWatch giúp người dân và cán bộ ghi lại vi phạm giao thông, kể cả khi không có mạng. ' +
      'Phản ánh được lưu trên điện thoại và chỉ bị xoá khi máy chủ đã nhận đủ và bạn đồng ý.',
    version: 'Phiên bản {v}',
    device: 'Mã thiết bị: {id}',
    device_none: 'Thiết bị chưa đăng ký (sẽ đăng ký khi gửi lần đầu).',
    licences: 'Giấy phép phần mềm nguồn mở',
    welcome_title: 'Trước khi bắt đầu',
    welcome_what:
      'Chụp ảnh hoặc quay video vi phạm. Phản ánh được lưu ngay trên điện thoại, tự gửi khi có mạng, và không sửa được sau khi lưu.',
    welcome_who: 'Công an xã, phường nơi xảy ra vi phạm nhận và xem xét phản ánh của bạn.',
    welcome_secret:
      'Nếu bạn để lại họ tên, danh tính được giữ bí mật: chỉ cán bộ được phép mới xem được, người vi phạm không bao giờ biết. Bạn cũng có thể báo không cần tên.',
    welcome_statuses: 'Các trạng thái',
    welcome_st_saved: 'nằm trên điện thoại, sẽ tự gửi khi có mạng.',
    welcome_st_sent: 'máy chủ đã nhận đủ ảnh, video.',
    welcome_st_submitted: 'cán bộ sẽ xem xét phản ánh.',
    welcome_st_verified: 'vi phạm được xác nhận, người vi phạm có thể bị xử phạt.',
    welcome_st_rejected: 'không đủ căn cứ; lý do được ghi kèm.',
    welcome_install_title: 'Cài lên màn hình chính',
    welcome_install_btn: 'Cài ứng dụng',
    welcome_install_ios: 'Trên iPhone, iPad: bấm nút Chia sẻ, rồi chọn “Thêm vào MH chính”.',
    welcome_install_other: 'Mở menu của trình duyệt và chọn “Thêm vào màn hình chính” hoặc “Cài đặt ứng dụng”.',
    welcome_start: 'Bắt đầu báo vi phạm',
    welcome_settings_title: 'Hướng dẫn',
    welcome_again: 'Xem lại hướng dẫn',
  },
};

export const LANGS = ['vi', 'en'];
let lang = 'vi';

/** The English table (i18n-en.js) is loaded only when English is asked for. */
async function load(which) {
  if (which === 'en' && !STRINGS.en) STRINGS.en = (await import('./i18n-en.js')).EN;
}

/** Pick the language: ?lang= (remembered), else the remembered one, else Vietnamese. */
export async function initLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (LANGS.includes(asked)) localStorage.setItem('rw-lang', asked);
  const stored = localStorage.getItem('rw-lang');
  const wanted = LANGS.includes(stored) ? stored : 'vi';
  await load(wanted).catch(() => {});
  lang = STRINGS[wanted] ? wanted : 'vi';
  document.documentElement.lang = lang;
  return lang;
}

export const currentLang = () => lang;
export const locale = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');

export async function setLang(next) {
  const wanted = LANGS.includes(next) ? next : 'vi';
  await load(wanted).catch(() => {});
  lang = STRINGS[wanted] ? wanted : 'vi';
  localStorage.setItem('rw-lang', lang);
  document.documentElement.lang = lang;
  applyI18n(document);
}

/** The string for `key` with {placeholders} filled in. */
export function t(key, params = {}) {
  const text = STRINGS[lang]?.[key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export const has = (key) => key in STRINGS.vi;

/** Re-label every marked element under `root`. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = `${t('app_title')} – RoadWatch`;
}

/** 12,3 MB */
export function formatBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: i ? 1 : 0 }).format(n)} ${units[i]}`;
}

/** One date format on every screen, the console's too (issue 26): dd/mm/yyyy HH:MM. */
export function formatTime(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "3 giờ", "2 ngày" / "3 hours"... */
export function formatAge(minutes) {
  const rtf = (value, unit) =>
    new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'long' }).format(value);
  if (minutes < 90) return rtf(minutes, 'minute');
  if (minutes < 48 * 60) return rtf(Math.round(minutes / 60), 'hour');
  return rtf(Math.round(minutes / 1440), 'day');
}

export function formatDistance(m) {
  if (m < 1000) return `${Math.round(m)} m`;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(m / 1000)} km`;
}
