"""The console speaks Vietnamese first, English on a switch, one label per thing.

The code lists are the real ones: read from the modules that define them, or found in
the server's source where codes are only written (flags appended, audit actions, case
event kinds, case statuses), so a new code without a label fails here. Page tests run on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import catalogue, dedup, exif, plates, reasons
from server.console import i18n
from server.console.i18n_text import EVENTS, FALLBACK, TEXT
from server.extensions import db
from server.models import CaseEvent, Decision, Report
from server.models.accounts import ROLES
from server.services import accounts, review
from sync import schemas
from tests.test_console import World, build_world, post, session_for

SERVER = Path(__file__).resolve().parents[1] / "server"
TEMPLATES = SERVER / "templates" / "console"


# ---------------------------------------------------------------------------- the codes


def _trees(*patterns: str) -> Iterator[ast.Module]:
    for pattern in patterns:
        for path in sorted(SERVER.glob(pattern)):
            yield ast.parse(path.read_text(encoding="utf-8"))


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _text(node: ast.AST | None, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _dict_items(node: ast.Dict, names: dict[str, str]) -> dict[str, str | None]:
    return {
        k.value: _text(v, names)
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }


def flag_codes() -> set[str]:
    """Every flag appended to a list of flags anywhere in the server."""
    codes = set()
    for tree in _trees("**/*.py"):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and "flag" in ast.unparse(node.func.value)
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def _from_select_kinds(node: ast.Call) -> set[str]:
    """``insert(CaseEvent).from_select([..."kind"...], select(..., literal("x"), ...))``."""
    if len(node.args) < 2:
        return set()
    columns, select = node.args[0], node.args[1]
    while (  # select(...).where(...): the select itself
        isinstance(select, ast.Call)
        and _call_name(select) != "select"
        and isinstance(select.func, ast.Attribute)
    ):
        select = select.func.value
    if not isinstance(columns, ast.List) or not isinstance(select, ast.Call):
        return set()
    names = [c.value if isinstance(c, ast.Constant) else None for c in columns.elts]
    if "kind" not in names or len(select.args) <= names.index("kind"):
        return set()
    value = select.args[names.index("kind")]
    if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Constant):
        return {value.args[0].value}
    return set()


def _event_makers() -> set[str]:
    """Functions that build a ``CaseEvent``, and those passing their own argument on to
    one as its kind (``_move_case(case, "forwarded", ...)``); the kind is the 2nd argument."""
    functions = [
        fn
        for tree in _trees("services/**/*.py")
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef)
    ]
    makers = {
        fn.name
        for fn in functions
        if any(isinstance(c, ast.Call) and _call_name(c) == "CaseEvent" for c in ast.walk(fn))
    }
    while True:
        more = {
            fn.name
            for fn in functions
            for c in ast.walk(fn)
            if isinstance(c, ast.Call)
            and _call_name(c) in makers
            and len(c.args) > 1
            and isinstance(c.args[1], ast.Name)
            and c.args[1].id in {a.arg for a in fn.args.args}
        } - makers
        if not more:
            return makers
        makers |= more


def event_kinds_and_reasons() -> tuple[set[str], set[str]]:
    """Kinds and reasons of every case event the server writes."""
    kinds, event_reasons = set(), set()
    makers = _event_makers()
    assert makers, "no function builds a CaseEvent any more: teach this test"
    for tree in _trees("services/**/*.py"):
        names = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in makers and len(node.args) > 1:
                kinds.add(_text(node.args[1], names))
                for kw in node.keywords:
                    if kw.arg == "reason" and _text(kw.value, names):
                        event_reasons.add(_text(kw.value, names))
            elif isinstance(node, ast.Call) and _call_name(node) == "from_select":
                kinds |= _from_select_kinds(node)
            elif isinstance(node, ast.Dict):
                items = _dict_items(node, names)
                if "kind" in items and "case_id" in items and items["kind"]:
                    kinds.add(items["kind"])
    kinds.discard(None)
    return kinds, event_reasons


def case_statuses() -> set[str]:
    """Statuses the server gives a case (assigned, or set when it is made)."""
    found = set()
    for tree in _trees("services/cases*.py", "services/cases/**/*.py"):
        names = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        found.add(_text(node.value, names))
            elif isinstance(node, ast.Call) and _call_name(node) == "Case":
                found |= {_text(k.value, names) for k in node.keywords if k.arg == "status"}
            elif isinstance(node, ast.Dict):
                items = _dict_items(node, names)
                if "status" in items and "first_report_id" in items:
                    found.add(items["status"])
    found.discard(None)
    return found


def audit_actions() -> set[str]:
    """Every action written to the audit log; ``f"case_{kind}"`` over the decision kinds."""
    found = set()
    for tree in _trees("**/*.py"):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _call_name(node) == "audit"):
                continue
            action = node.args[1] if len(node.args) > 1 else None
            if isinstance(action, ast.Constant):
                found.add(action.value)
            elif isinstance(action, ast.JoinedStr):
                assert ast.unparse(action) == "f'case_{kind}'", ast.unparse(action)
                found |= {f"case_{kind}" for kind in review.KINDS}
    return found


def decision_kinds() -> set[str]:
    found = set(review.KINDS)
    for tree in _trees("services/**/*.py"):
        for node in ast.walk(tree):
            if (  # review.py records its decisions through _record(user, case, kind, ...)
                isinstance(node, ast.Call)
                and _call_name(node) == "_record"
                and len(node.args) > 2
                and isinstance(node.args[2], ast.Constant)
            ):
                found.add(node.args[2].value)
            if isinstance(node, ast.Call) and _call_name(node) == "Decision":
                found |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == "kind" and isinstance(k.value, ast.Constant)
                }
    return found


def decision_errors() -> set[str]:
    found = set()
    for tree in _trees("services/**/*.py"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "DecisionError" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    found.add(node.args[0].value)
    return found


EVENT_KINDS, EVENT_REASONS = event_kinds_and_reasons()
CODES: dict[str, set[str]] = {
    "flag": flag_codes(),
    "report_status": set(schemas.STATUSES) | set(reasons.STATUS_TEXT),
    "case_status": case_statuses(),
    "vehicle_class": set(plates.VEHICLE_CLASSES) | set(schemas.VEHICLE_CLASSES),
    "exif": {f.name for f in dataclasses.fields(exif.ExifData)},
    "event": EVENT_KINDS,
    "audit": audit_actions(),
    "decision": decision_kinds(),
    "reason": set(reasons.REJECT_REASONS) | set(reasons.INFO_REASONS),
    "join": set(dedup.REASON_PRIORITY) | EVENT_REASONS,
    "location_source": set(schemas.LOCATION_SOURCES),
    "role": set(ROLES),
    "decision_error": decision_errors(),
}
ALL = sorted((kind, code) for kind, codes in CODES.items() for code in codes)


def test_the_code_lists_are_found() -> None:
    """The source scans still find what they look for (guards the scans themselves)."""
    assert {"exif_location_mismatch", "no_exif_gps", "vehicle_class_mismatch"} <= CODES["flag"]
    assert {"absorbed", "merged", "split", "opened", "forwarded", "routed"} <= EVENT_KINDS
    assert {"routed_by_hand", "unit_changed"} <= EVENT_KINDS
    assert {"open", "merged"} <= CODES["case_status"]
    assert {"penalty", "reopen", "merge"} <= CODES["decision"]
    assert {"case_verify", "case_reject", "identity_revealed", "login"} <= CODES["audit"]
    assert {"split", "forward"} <= CODES["decision"] and "split" in CODES["join"]
    assert "unknown decision" in CODES["decision_error"]


@pytest.mark.parametrize(("kind", "code"), ALL)
def test_every_code_has_a_vietnamese_and_an_english_label(
    kind: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    vi, en = i18n.label(code, kind, "vi"), i18n.label(code, kind, "en")
    assert vi and en and vi != en
    assert code not in (vi, en)
    assert (vi, en) != FALLBACK[kind]
    assert " / " not in vi
    assert not [r for r in caplog.records if r.name == i18n.log.name]


@pytest.mark.parametrize("kind", sorted(i18n.tables()))
def test_an_unknown_code_gets_a_generic_label_and_is_logged(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=i18n.log.name)
    assert i18n.label("brand_new_code", kind, "vi") == FALLBACK[kind][0]
    assert i18n.label("brand_new_code", kind, "en") == FALLBACK[kind][1]
    assert "brand_new_code" in caplog.text


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_every_case_event_reads_as_a_sentence_with_pseudonyms(kind: str) -> None:
    a, b, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    event = SimpleNamespace(
        kind=kind,
        actor="system",
        report_id=a,
        other_case_id=other,
        reason="same_plate",
        from_district="006",
        to_district="001",
        from_unit="CA-006",
        to_unit="CA-001",
        note=f"{a} matched {b}" if kind == "absorbed" else None,
    )
    names = {"006": "Đống Đa", "001": "Ba Đình"}

    def pseudonym(rid: str) -> str:
        return {a: "Người báo #1111", b: "Người báo #2222"}[rid]

    def district(code: str | None) -> dict | None:
        return {"code": code, "name": names.get(code or "")}

    for lang, system in (("vi", "Hệ thống"), ("en", "System")):
        line = i18n.event_line(event, pseudonym, district, lang)
        assert line.startswith(system) and line.endswith(".")
        assert a not in line and b not in line and other not in line and "matched" not in line
        assert "{" not in line and (lang == "en" or kind not in line)
        placeholders = re.findall(r"\{(\w+)\}", EVENTS[kind][0])
        if "report" in placeholders:
            assert "Người báo #1111" in line
        if "partner" in placeholders:
            assert "Người báo #2222" in line
        if "other" in placeholders:
            assert other[:8] in line
        if "to" in placeholders:
            assert "Ba Đình (001)" in line


def test_an_unknown_event_kind_is_a_generic_sentence(caplog: pytest.LogCaptureFixture) -> None:
    event = SimpleNamespace(kind="teleported", actor="cli:root", note=None)
    line = i18n.event_line(event, str, str, "vi")
    assert line == "Quản trị viên (dòng lệnh) root: thay đổi khác của vụ việc."
    assert "teleported" in caplog.text


TEMPLATE_KEY = re.compile(r"""\bt\(\s*['"]([\w.]+)['"]""")


def test_every_text_a_template_asks_for_exists_in_both_languages() -> None:
    used = {
        key
        for path in TEMPLATES.glob("*.html")
        for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8"))
    }
    assert used and used <= set(TEXT), used - set(TEXT)
    for key, (vi, en) in TEXT.items():
        assert vi and en, key
        assert " / " not in vi and " / " not in en, key


def test_no_template_doubles_a_label() -> None:
    for path in TEMPLATES.glob("*.html"):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", path.read_text(), flags=re.S)
        assert " / " not in text, path.name


# ---------------------------------------------------------------------------- pages


class _Visible(HTMLParser):
    """Text a reader sees or hears: content outside scripts, and the labelling attributes."""

    ATTRS = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in self.ATTRS and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


# Codes of one word are looked for as whole lower-case words; others anywhere.
RAW = sorted(
    code
    for kind in ("flag", "report_status", "case_status", "exif", "event", "audit", "decision")
    for code in CODES[kind]
) + sorted(CODES["reason"] | CODES["vehicle_class"] | set(dedup.REASON_PRIORITY))
WORDS = ("Forbidden", "Not Found", "Bad Request", "Unauthorized", "status: open", "matched")


def doubled(text: str) -> bool:
    """A "vi / en" label; the catalogue's own names ("trái phép / trái quy định") aside."""
    for v in catalogue.violations():
        text = text.replace(v["name_vi"], "").replace(v["name_en"], "")
    return " / " in text


def raw_codes_in(text: str, roles: bool = True) -> list[str]:
    found = [c for c in RAW if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    found += [w for w in WORDS if w in text]
    if roles:
        found += [r for r in ROLES if f"({r})" in text]
    return found


@pytest.fixture
def busy(app: Flask, client: FlaskClient) -> World:
    """The console's world with every flag, decision, reason, case event and audit action
    on case A (and one unknown code of each, to see the generic label)."""
    world = build_world(app, client)
    sup = session_for(app, "sup_hn")
    reason = "Công văn 12/TA của Tòa án nhân dân"
    post(sup, f"/console/reports/{world.reports['a1']}/reveal", {"reason": reason})
    a1, a2, case_a = world.reports["a1"], world.reports["a2"], world.cases["A"]
    with app.app_context():
        report = db.session.get(Report, a1)
        report.flags = sorted(CODES["flag"]) + ["brand_new_flag"]
        admin = accounts.get_by_username("admin")
        for kind in sorted(CODES["event"]) + ["brand_new_event"]:
            db.session.add(
                CaseEvent(
                    case_id=case_a,
                    kind=kind,
                    actor="user:rev_a" if kind == "forwarded" else "system",
                    report_id=a1,
                    other_case_id=world.cases["B"],
                    reason="same_plate",
                    from_district="006",
                    to_district="001",
                    from_unit="CA-006",
                    to_unit="CA-001",
                    note=f"{a1} matched {a2}" if kind == "absorbed" else None,
                )
            )
        decisions = [("verify", None), ("split", None), ("forward", None)]
        decisions += [("penalty", None), ("reopen", None)]
        decisions += [("reject", code) for code in reasons.REJECT_REASONS]
        decisions += [("needs_info", code) for code in reasons.INFO_REASONS]
        for kind, code in decisions:
            db.session.add(
                Decision(
                    case_id=case_a,
                    kind=kind,
                    reason_code=code,
                    penalty_no="QĐ-7/2026" if kind in ("verify", "penalty") else None,
                    public_note="Cảm ơn bạn",
                    internal_note="ghi chú riêng",
                    actor_id=admin.id,
                    at=report.received_at,
                )
            )
        details = {
            "case_reject": "plate_unreadable",
            "case_needs_info": "need_video",
            "case_verify": "QĐ-7/2026",
            "report_split": f"new case {world.cases['B']}",
            "case_forwarded": "006 -> 001",
            "user_created": "someone role=reviewer",
        }
        for action in sorted(CODES["audit"]):
            accounts.audit(admin, action, case_id=case_a, detail=details.get(action))
        db.session.commit()
    return world


def _pages(app: Flask, world: World) -> dict[str, tuple[FlaskClient, str, int]]:
    rev, admin = session_for(app, "rev_a"), session_for(app, "admin")
    return {
        "case": (rev, f"/console/cases/{world.cases['A']}", 200),
        "queue": (rev, "/console/queue", 200),
        "audit": (admin, "/console/audit", 200),
        "reveals": (admin, "/console/reveals", 200),
        "forbidden": (rev, "/console/audit", 403),
        "missing": (rev, f"/console/cases/{world.cases['C']}", 404),
        "no_route": (rev, "/console/no-such-page", 404),
        "login": (app.test_client(), "/console/login", 200),
    }


ENGLISH = {
    "case": [
        "Plausibility flags", "Verdict: Awaiting review", "The photo has no location", "History",
    ],  # fmt: skip
    "queue": ["Case queue", "Violation", "Page 1 of 1"],
    "audit": ["Audit log", "Violation verified", "The plate cannot be read", "Reviewer"],
    "reveals": ["Identity reveal log", "Supervisor HN"],
    "forbidden": ["Access denied", "Back to the queue"],
    "missing": ["Not found"],
    "no_route": ["Not found"],
    "login": ["Log in", "Username"],
}
VIETNAMESE = {
    "case": ["Cờ kiểm tra", "Kết luận: Chờ xử lý", "Ảnh không có vị trí chụp"],
    "queue": ["Hàng đợi vụ việc", "Hành vi vi phạm", "Trang 1/1"],
    "audit": ["Nhật ký thao tác", "Xác minh vi phạm", "Không đọc được biển số xe"],
    "reveals": ["Nhật ký tiết lộ danh tính", "Supervisor HN"],
    "forbidden": ["Không có quyền truy cập", "Về hàng đợi"],
    "missing": ["Không tìm thấy"],
    "no_route": ["Không tìm thấy"],
    "login": ["Đăng nhập", "Tên đăng nhập"],
}


def test_pages_speak_vietnamese_without_raw_codes_or_doubled_labels(
    app: Flask, busy: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=i18n.log.name)
    for name, (c, path, status) in _pages(app, busy).items():
        resp = c.get(path)
        assert resp.status_code == status, name
        html = resp.get_data(as_text=True)
        assert '<html lang="vi">' in html and resp.headers["Content-Language"] == "vi"
        text = visible(html)
        assert raw_codes_in(text, roles=name not in ("audit", "reveals")) == [], name
        assert not doubled(text), name
        for words in VIETNAMESE[name]:
            assert words in text, (name, words)
        for uid in [*busy.reports.values(), *busy.cases.values()]:
            assert uid not in text, name  # pseudonyms and short ids only
    assert "brand_new_flag" in caplog.text and "brand_new_event" in caplog.text


def test_the_case_history_reads_as_sentences(app: Flask, busy: World) -> None:
    c = session_for(app, "rev_a")
    text = visible(c.get(f"/console/cases/{busy.cases['A']}").get_data(as_text=True))
    with app.test_request_context():
        a1, a2 = accounts.pseudonym(busy.reports["a1"]), accounts.pseudonym(busy.reports["a2"])
    b = busy.cases["B"][:8]
    assert f"Hệ thống gộp vụ việc {b} vào vụ việc này do trùng biển số" in text
    assert f"({a1} và {a2})" in text
    assert "Reviewer A chuyển vụ việc từ" in text and "sang" in text and "(001)" in text
    assert "Cờ kiểm tra chưa rõ" in text and "Thay đổi khác của vụ việc" in text
    assert "Ghi chú của cán bộ (người báo xem được): “Cảm ơn bạn”" in text
    assert "Lý do vào vụ việc: Trùng biển số, hành vi vi phạm, nơi và giờ" in text


def test_the_language_switch_gives_english_and_remembers_it(app: Flask, busy: World) -> None:
    for name, (c, path, status) in _pages(app, busy).items():
        joiner = "&" if "?" in path else "?"
        resp = c.get(f"{path}{joiner}lang=en")
        assert resp.status_code == status, name
        html = resp.get_data(as_text=True)
        assert '<html lang="en">' in html and resp.headers["Content-Language"] == "en"
        text = visible(html)
        for words in ENGLISH[name]:
            assert words in text, (name, words)
        assert not doubled(text) and "Tiếng Việt" in text, name
        assert "Cờ kiểm tra" not in text and "Hàng đợi vụ việc" not in text
    c = session_for(app, "rev_a")
    first = c.get("/console/queue?lang=en")
    assert "rw_console_lang=en" in first.headers["Set-Cookie"]
    assert "Path=/console" in first.headers["Set-Cookie"]
    assert '<html lang="en">' in c.get("/console/queue").get_data(as_text=True)  # the cookie
    assert '<html lang="vi">' in c.get("/console/queue?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in c.get("/console/queue").get_data(as_text=True)


def test_the_switch_link_keeps_the_page_and_its_filters(app: Flask, busy: World) -> None:
    c = session_for(app, "rev_a")
    html = c.get("/console/queue?plate=30A").get_data(as_text=True)
    assert 'href="/console/queue?plate=30A&amp;lang=en" hreflang="en" lang="en">English' in html


def test_a_stale_form_gets_a_vietnamese_page(app: Flask, busy: World) -> None:
    c = session_for(app, "rev_a")
    resp = c.post(f"/console/cases/{busy.cases['A']}/decide", data={"kind": "verify"})
    assert resp.status_code == 400
    text = visible(resp.get_data(as_text=True))
    assert "Biểu mẫu đã hết hạn" in text and "Bad Request" not in text and "CSRF" not in text
    english = c.post(f"/console/cases/{busy.cases['A']}/decide?lang=en", data={})
    assert "The form has expired" in visible(english.get_data(as_text=True))


def test_refused_decisions_are_explained_in_the_consoles_language(app: Flask, busy: World) -> None:
    c = session_for(app, "rev_a")
    post(c, f"/console/cases/{busy.cases['A']}/decide", {"kind": "reject"})
    page = visible(c.get(f"/console/cases/{busy.cases['A']}").get_data(as_text=True))
    assert "Hãy chọn lý do từ chối trong danh sách." in page
    post(c, f"/console/cases/{busy.cases['A']}/decide?lang=en", {"kind": "reject"})
    page = visible(c.get(f"/console/cases/{busy.cases['A']}").get_data(as_text=True))
    assert "Choose a reason for rejecting from the list." in page


def test_the_api_keeps_its_problem_json_errors(app: Flask, client: FlaskClient) -> None:
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
