"""RFC 9457 problem details: every rejection the API makes goes through here.

A problem has a stable machine ``code``, an HTTP status, and a message in Vietnamese
and English. ``title`` is in the language the client asked for (Vietnamese by
default); ``message`` always carries both. Field errors from validation are listed
under ``errors`` by field path, with messages that never echo the submitted value.

Views raise :class:`ApiError` with a code. Services know nothing of HTTP: they raise
domain exceptions (:mod:`server.services.errors`), and :data:`DOMAIN_PROBLEMS`, one
table, maps each to its code, status and headers (such as ``Retry-After``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, json, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from .services import errors

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# code -> (status, Vietnamese, English)
MESSAGES: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "Yêu cầu không hợp lệ.", "The request is not valid."),
    "malformed_json": (
        400,
        "Nội dung gửi lên không phải JSON hợp lệ.",
        "The request body is not valid JSON.",
    ),
    "invalid_query": (
        400,
        "Tham số truy vấn không hợp lệ.",
        "A query parameter is not valid.",
    ),
    "json_too_deep": (
        400,
        "Nội dung JSON lồng nhau quá sâu.",
        "The JSON body is nested too deeply.",
    ),
    "json_object_required": (
        400,
        "Nội dung gửi lên phải là một đối tượng JSON.",
        "The request body must be a JSON object.",
    ),
    "unsupported_media_type": (
        415,
        "Kiểu nội dung không được hỗ trợ; hãy gửi application/json.",
        "Unsupported content type; send application/json.",
    ),
    "validation_failed": (
        422,
        "Dữ liệu gửi lên có trường không hợp lệ.",
        "Some fields of the request are not valid.",
    ),
    "invalid_id": (
        400,
        "Mã định danh phải là một UUID hợp lệ.",
        "The identifier must be a valid UUID.",
    ),
    "unauthorized": (
        401,
        "Cần mã xác thực của thiết bị (Authorization: Bearer).",
        "A device token is required (Authorization: Bearer).",
    ),
    "invalid_token": (
        401,
        "Mã xác thực không hợp lệ hoặc đã bị thu hồi.",
        "The token is not valid or has been revoked.",
    ),
    "forbidden": (403, "Bạn không có quyền thực hiện thao tác này.", "You may not do this."),
    "invalid_credentials": (
        401,
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    ),
    "not_found": (404, "Không tìm thấy.", "Not found."),
    "report_not_found": (404, "Không tìm thấy phản ánh.", "Report not found."),
    "report_expired": (
        410,
        "Phản ánh đã hết hạn vì ảnh/video không được gửi tới kịp thời; tệp không được nhận.",
        "The report expired because its photos/videos did not arrive in time; the file "
        "was not accepted.",
    ),
    "media_not_declared": (
        404,
        "Tệp này không có trong danh sách tệp của phản ánh.",
        "This media item was not declared in the report.",
    ),
    "method_not_allowed": (405, "Phương thức không được hỗ trợ.", "Method not allowed."),
    "report_conflict": (
        409,
        "Mã phản ánh này đã được dùng với nội dung khác.",
        "This report id was already used with a different body.",
    ),
    "device_key_conflict": (
        409,
        "Thiết bị này đã đăng ký một khóa khác; hãy đăng ký thiết bị mới.",
        "This device already registered another key; register a new device.",
    ),
    "answer_conflict": (
        409,
        "Mã câu trả lời này đã được dùng với nội dung khác.",
        "This answer id was already used with a different body.",
    ),
    "no_information_requested": (
        409,
        "Phản ánh này không đang chờ bổ sung thông tin.",
        "This report is not waiting for more information.",
    ),
    "media_id_conflict": (
        409,
        "Mã tệp này đã thuộc về một phản ánh khác.",
        "This media id already belongs to another report.",
    ),
    "length_required": (
        411,
        "Cần khai báo độ dài nội dung (Content-Length).",
        "Content-Length is required.",
    ),
    "payload_too_large": (
        413,
        "Dữ liệu gửi lên vượt quá giới hạn cho phép.",
        "The request body is larger than allowed.",
    ),
    "size_mismatch": (
        422,
        "Kích thước tệp không khớp với kích thước đã khai báo.",
        "The file size does not match the declared size.",
    ),
    "checksum_mismatch": (
        422,
        "Mã băm SHA-256 của tệp không khớp với mã đã khai báo; tệp đã bị loại bỏ.",
        "The file's SHA-256 does not match the declared one; the bytes were discarded.",
    ),
    "content_type_mismatch": (
        422,
        "Nội dung tệp không đúng với loại tệp đã khai báo.",
        "The file content is not of the declared type.",
    ),
    "upload_incomplete": (
        400,
        "Tệp gửi lên bị ngắt giữa chừng; hãy gửi lại.",
        "The upload was cut off; send it again.",
    ),
    "insufficient_storage": (
        507,
        "Máy chủ tạm thời hết dung lượng lưu trữ; hãy thử lại sau.",
        "The server is out of storage space for now; try again later.",
    ),
    "tus_version_unsupported": (
        412,
        "Phiên bản giao thức tải lên (tus) không được hỗ trợ.",
        "Unsupported tus protocol version.",
    ),
    "upload_not_found": (
        404,
        "Không tìm thấy phiên tải lên; hãy tạo lại.",
        "Upload not found; create it again.",
    ),
    "upload_expired": (
        410,
        "Phiên tải lên đã hết hạn; hãy tạo lại và gửi lại từ đầu.",
        "The upload has expired; create it again and start over.",
    ),
    "offset_mismatch": (
        409,
        "Vị trí tải lên không khớp với máy chủ; hãy hỏi lại vị trí (HEAD).",
        "Upload-Offset does not match the server's; ask again with HEAD.",
    ),
    "chunk_checksum_mismatch": (
        460,
        "Mã kiểm tra của đoạn dữ liệu không khớp; đoạn này đã bị loại bỏ.",
        "The chunk's checksum does not match; the chunk was discarded.",
    ),
    "checksum_algorithm_unsupported": (
        400,
        "Thuật toán kiểm tra không được hỗ trợ (dùng sha1 hoặc sha256).",
        "Unsupported checksum algorithm (use sha1 or sha256).",
    ),
    "upload_content_type": (
        415,
        "Dữ liệu tải lên phải có kiểu application/offset+octet-stream.",
        "Upload data must be sent as application/offset+octet-stream.",
    ),
    "upload_locked": (
        423,
        "Phiên tải lên này đang được ghi bởi một yêu cầu khác; "
        "hãy hỏi lại vị trí (HEAD) rồi thử lại.",
        "Another request is writing this upload; ask for the offset (HEAD) and retry.",
    ),
    "upload_not_finished": (
        503,
        "Máy chủ đã nhận đủ dữ liệu nhưng chưa lưu xong tệp; hãy hỏi lại (HEAD) sau ít phút, "
        "máy chủ sẽ hoàn tất.",
        "The server has every byte but could not finish storing the file yet; ask again "
        "(HEAD) shortly and the server finishes it.",
    ),
    "invalid_cursor": (
        400,
        "Con trỏ thay đổi không hợp lệ.",
        "The change cursor is not valid.",
    ),
    "rate_limited": (429, "Quá nhiều yêu cầu; hãy thử lại sau.", "Too many requests; retry later."),
    "push_endpoint_not_allowed": (
        422,
        "Địa chỉ nhận thông báo đẩy không thuộc dịch vụ được chấp nhận.",
        "The push endpoint is not on an accepted push service.",
    ),
    "service_unavailable": (
        503,
        "Máy chủ đang bận; dữ liệu của bạn vẫn an toàn trên điện thoại, hãy thử lại sau.",
        "The server is busy; your data is still safe on the phone, try again later.",
    ),
    "internal_error": (
        500,
        "Lỗi máy chủ; dữ liệu của bạn vẫn an toàn trên điện thoại, hãy thử lại sau.",
        "Server error; your data is still safe on the phone, try again later.",
    ),
}


class ApiError(Exception):
    """An error the API answers with a problem+json body.

    :param code: a key of :data:`MESSAGES`
    :param errors: optional field errors, ``{"field.path": ["message", ...]}``
    :param headers: extra response headers (e.g. ``Retry-After``)
    """

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status or MESSAGES[code][0]
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


@dataclass(frozen=True)
class Problem:
    """How the API answers a domain exception."""

    code: str  # a key of MESSAGES
    status: int  # the code's status in MESSAGES
    headers: Mapping[str, str] = field(default_factory=dict)


# Each domain exception -> its problem. Retry-After is in seconds.
DOMAIN_PROBLEMS: dict[type[errors.DomainError], Problem] = {
    errors.ValidationFailed: Problem("validation_failed", 422),
    errors.ReportNotFound: Problem("report_not_found", 404),
    errors.ReportConflict: Problem("report_conflict", 409),
    errors.ReportExpired: Problem("report_expired", 410),
    errors.MediaIdConflict: Problem("media_id_conflict", 409),
    errors.AnswerConflict: Problem("answer_conflict", 409),
    errors.NoInformationRequested: Problem("no_information_requested", 409),
    errors.DeviceKeyConflict: Problem("device_key_conflict", 409),
    errors.MediaNotDeclared: Problem("media_not_declared", 404),
    errors.LengthRequired: Problem("length_required", 411),
    errors.TooLarge: Problem("payload_too_large", 413),
    errors.SizeMismatch: Problem("size_mismatch", 422),
    errors.ChecksumMismatch: Problem("checksum_mismatch", 422),
    errors.ContentTypeMismatch: Problem("content_type_mismatch", 422),
    errors.ImageNotDecodable: Problem("content_type_mismatch", 422),
    errors.UploadIncomplete: Problem("upload_incomplete", 400),
    # A full disk is freed by an operator, not in a second.
    errors.StorageFull: Problem("insufficient_storage", 507, {"Retry-After": "600"}),
    errors.UploadNotFound: Problem("upload_not_found", 404),
    errors.UploadExpired: Problem("upload_expired", 410),
    # The other writer is usually a PATCH whose client vanished, draining its last bytes.
    errors.UploadBusy: Problem("upload_locked", 423, {"Retry-After": "1"}),
    errors.OffsetMismatch: Problem("offset_mismatch", 409),
    # Finishing a complete upload failed (database, store, a node killed): a retry
    # finishes it (PROTOCOL §3.5).
    errors.UploadNotFinished: Problem("upload_not_finished", 503, {"Retry-After": "10"}),
    errors.ChunkChecksumMismatch: Problem("chunk_checksum_mismatch", 460),
    # Failed logins are counted over 15 minutes (server.services.accounts.FAILURE_WINDOW);
    # the exception's retry_after, when given, replaces this Retry-After.
    errors.RateLimited: Problem("rate_limited", 429, {"Retry-After": "900"}),
}

# Details of a domain exception that are answered in a header (name, format); the
# other details go into the body.
DETAIL_HEADERS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "upload_offset": ("Upload-Offset", str),
    "upload_expires_at": ("Upload-Expires", http_date),
    "retry_after": ("Retry-After", str),
}


def problem_for(err: errors.DomainError) -> Problem | None:
    """The problem of the exception's class, or of its nearest base class in the table."""
    return next((DOMAIN_PROBLEMS[k] for k in type(err).__mro__ if k in DOMAIN_PROBLEMS), None)


def domain_problem_response(err: errors.DomainError) -> Response:
    """The problem+json answer to a domain exception (see :data:`DOMAIN_PROBLEMS`)."""
    problem = problem_for(err)
    if problem is None:
        log.error("no problem for %s on %s %s", type(err).__name__, request.method, request.path)
        return problem_response("internal_error", 500)
    headers = dict(problem.headers)
    body: dict[str, Any] = {}
    for name, value in err.details.items():
        if name in DETAIL_HEADERS:
            header, fmt = DETAIL_HEADERS[name]
            headers[header] = fmt(value)
        else:
            body[name] = value
    field_errors = getattr(err, "errors", None)
    return problem_response(problem.code, problem.status, field_errors, headers, **body)


def wants_english() -> bool:
    """True when the client prefers English over Vietnamese (Accept-Language)."""
    best = request.accept_languages.best_match(["vi", "en"], default="vi")
    return best == "en"


def problem_body(code: str, status: int, errors: dict[str, Any] | None = None, **extra: Any):
    _, vi, en = MESSAGES.get(code, (status, MESSAGES["bad_request"][1], MESSAGES["bad_request"][2]))
    body: dict[str, Any] = {
        "type": f"urn:roadwatch:problem:{code}",
        "title": en if wants_english() else vi,
        "status": status,
        "code": code,
        "message": {"vi": vi, "en": en},
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    code: str,
    status: int | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    status = status or MESSAGES[code][0]
    resp = Response(
        json.dumps(problem_body(code, status, errors, **extra)),
        status=status,
        mimetype=PROBLEM_JSON,
    )
    resp.headers["Content-Language"] = "en" if wants_english() else "vi"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def init_app(app: Flask) -> None:
    """Register handlers so every API error, including Werkzeug's, is problem+json."""
    from .extensions import db

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> Response:
        db.session.rollback()
        return problem_response(err.code, err.status, err.errors, err.headers, **err.extra)

    @app.errorhandler(errors.DomainError)
    def _domain_error(err: errors.DomainError) -> Response:
        db.session.rollback()
        return domain_problem_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        db.session.rollback()
        if not _is_api_request():
            return err
        status = err.code or 500
        code = _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
        headers = {}
        if status == 405 and err.get_response().headers.get("Allow"):
            headers["Allow"] = err.get_response().headers["Allow"]
        return problem_response(code, status, headers=headers)

    @app.errorhandler(PoolTimeout)
    def _no_database_connection(err: PoolTimeout):
        # Every pooled connection stayed busy for the pool's timeout: the node is
        # overloaded (gevent workers accept many more requests than the pool has
        # connections). Temporary: the client retries later, as for a locked database.
        db.session.rollback()
        log.error("no database connection free on %s %s", request.method, request.path)
        return problem_response("service_unavailable", 503, headers={"Retry-After": "30"})

    @app.errorhandler(OperationalError)
    def _database_unavailable(err: OperationalError):
        # The database is locked for too long or unreachable: a temporary condition.
        db.session.rollback()
        log.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            type(err.orig).__name__,
        )
        return problem_response("service_unavailable", 503, headers={"Retry-After": "30"})

    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # boto3 is in requirements.txt; a folder store needs none of it
        pass
    else:

        @app.errorhandler(BotoCoreError)
        @app.errorhandler(ClientError)
        def _store_unavailable(err: Exception):
            # The object store failed after boto3's own retries (unreachable, busy, an
            # internal error): a temporary condition the phone retries, not a 500.
            db.session.rollback()
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            log.error(
                "evidence store unavailable on %s %s: %s %s",
                request.method,
                request.path,
                type(err).__name__,
                code,
            )
            return problem_response("service_unavailable", 503, headers={"Retry-After": "30"})

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # Never log the request body: it may hold an informant's identity.
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response("internal_error", 500)


def _is_api_request() -> bool:
    return request.path.startswith(("/api/", "/open311/"))
