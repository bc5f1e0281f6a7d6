"""Coded reasons of reviewers' decisions, as the reporter sees them (Vietnamese, English).

Every rejection and every request for more information carries one of these codes;
the reporter's phone shows the text, so a decision is never a bare "rejected".
"""

from __future__ import annotations

REJECT_REASONS: dict[str, tuple[str, str]] = {
    "plate_unreadable": ("Không đọc được biển số xe", "The plate cannot be read"),
    "not_a_violation": ("Không phải hành vi vi phạm", "Not a traffic violation"),
    "evidence_too_old": ("Bằng chứng đã quá cũ", "The evidence is too old"),
    "edited_media": ("Ảnh hoặc video đã bị chỉnh sửa", "The photo or video was edited"),
    "outside_jurisdiction": ("Ngoài địa bàn quản lý", "Outside our jurisdiction"),
    "duplicate": ("Trùng với phản ánh đã được xử lý", "Already reported and handled"),
    "insufficient_evidence": ("Bằng chứng chưa đủ rõ", "The evidence is not clear enough"),
    "wrong_place_or_time": ("Thời gian hoặc địa điểm không khớp", "Time or place do not match"),
}

INFO_REASONS: dict[str, tuple[str, str]] = {
    "need_plate_photo": ("Cần ảnh rõ biển số xe", "A clear photo of the plate is needed"),
    "need_wider_view": ("Cần ảnh toàn cảnh nơi vi phạm", "A wider view of the scene is needed"),
    "need_video": ("Cần video thể hiện hành vi", "A video showing the violation is needed"),
    "need_time_place": ("Cần xác nhận thời gian, địa điểm", "Please confirm the time and place"),
}

STATUS_TEXT: dict[str, tuple[str, str]] = {
    "awaiting_evidence": ("Đang chờ ảnh/video", "Waiting for photos/videos"),
    "submitted": ("Đã gửi, chờ xử lý", "Sent, awaiting review"),
    "verified": ("Đã xác minh vi phạm", "Violation verified"),
    "penalty_issued": ("Đã ra quyết định xử phạt", "A penalty decision was issued"),
    "rejected": ("Không được chấp nhận", "Not accepted"),
    "needs_info": ("Cần bổ sung thông tin", "More information needed"),
    "info_added": ("Đã bổ sung, chờ xem xét", "Information added, awaiting review"),
    "reopened": ("Đang xem xét lại", "Under review again"),
    "expired": (
        "Đã hết hạn: ảnh/video không được gửi tới kịp thời",
        "Expired: the photos/videos did not arrive in time",
    ),
}


def reason_text(code: str | None, lang: str) -> str | None:
    """The reporter-facing text of a reason code, or None for no/unknown code."""
    if code is None:
        return None
    pair = REJECT_REASONS.get(code) or INFO_REASONS.get(code)
    if pair is None:
        return None
    return pair[1] if lang == "en" else pair[0]


def status_text(status: str, lang: str) -> str:
    pair = STATUS_TEXT.get(status, (status, status))
    return pair[1] if lang == "en" else pair[0]
