"""The case page in Chromium with a camera-signed photo (C2PA Content Credentials) and a
plain one in the same case: the signed photo's line names its signer, the plain photo's
line is neutral. The screenshot goes to test-artifacts/screenshots/case-provenance.png,
and to docs/screenshots/ with UPDATE_DOC_SCREENSHOTS=1.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Flask

from server.extensions import db
from server.models import Report
from server.services import accounts
from server.settings import override
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_photo
from tests.test_provenance import ISSUER_O, PASSWORD, SIGNER_CN, _ca_pem, make_chain, sign

pytestmark = BROWSER


def test_the_case_page_shows_a_camera_signed_photo(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path, tmp_path: Path
) -> None:
    # The signer's CA is on the operator's trust list: only then is it a camera maker.
    anchors = tmp_path / "trust.pem"
    anchors.write_bytes(_ca_pem(make_chain()))
    override(app, C2PA_TRUST_ANCHORS=str(anchors))
    client = app.test_client()
    api = Api.register(client)
    report_ids = []
    for minutes, data in ((0, sign(make_photo(11))), (3, make_photo(12))):
        media = MediaFile(data)
        rid = str(uuid.uuid4())
        body = report_body([media], captured_at=f"2026-11-20T08:{15 + minutes}:30+07:00")
        assert api.put_report(rid, body).status_code == 201
        assert api.put_media(rid, media).status_code == 201
        report_ids.append(rid)
    with app.app_context():
        accounts.create_user("rev_p", PASSWORD, "reviewer", districts=["006"])
        case_ids = {db.session.get(Report, rid).case_id for rid in report_ids}
    assert len(case_ids) == 1  # the same plate minutes apart: one case

    context = browser.new_context(
        base_url=rw_server.url,
        viewport={"width": 1366, "height": 900},
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "rev_p")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    page.goto(f"/console/cases/{case_ids.pop()}")

    signed = page.locator(f"#r-{report_ids[0]} .provenance")
    assert signed.inner_text() == (
        "Thông tin xác thực nội dung (C2PA): Máy ảnh đã ký, chưa chỉnh sửa"
        f" · người ký: {SIGNER_CN} ({ISSUER_O})"
    )
    plain = page.locator(f"#r-{report_ids[1]} .provenance")
    assert plain.inner_text() == "Thông tin xác thực nội dung (C2PA): không có"
    signed.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir / "case-provenance.png"), full_page=True)
    publish_screenshot(screenshots_dir, "case-provenance.png")
    context.close()
