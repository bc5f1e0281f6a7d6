"""The case page's forward picker and its printed case file, in Debian's Chromium.

The picker lists the districts under their province; typing "ba dinh" (no diacritics)
keeps only Ba Đình, "ha noi" every district of Hà Nội; a district filtered away is not
sent. Without JavaScript the grouped list works on its own. Printing the page (print
media) gives the case file: header, verdict, evidence, EXIF, map points, history and
decisions; no navigation, forms or buttons.

The print screenshot goes to test-artifacts/screenshots/console-case-print.png, and to
docs/screenshots/ when UPDATE_DOC_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import Flask

from server.extensions import db
from server.models import Case
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, console_context, console_login
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE
from tests.test_console import build_world, post, session_for

pytestmark = BROWSER

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PRINT_VIEW = {"width": 1280, "height": 800}

# The options the reviewer can see and pick, with their province.
_OPTIONS = """sel => [...sel.options].map(o => [o.value, o.textContent,
  o.parentElement.tagName === 'OPTGROUP' ? o.parentElement.label : ''])"""




def _district_of(app: Flask, case_id: str) -> str | None:
    with app.app_context():
        return db.session.get(Case, case_id).district_code


def test_forward_picker_finds_districts_without_diacritics_and_forwards(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    world = build_world(app, app.test_client())
    context = console_context(browser, rw_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    console_login(page, "rev_a")
    page.goto(f"/console/cases/{world.cases['A3']}")
    find = page.get_by_label("Tìm xã, phường, tỉnh (cả tên cũ)")
    assert find.is_visible()
    picker = page.locator("#forward-to")
    everything = picker.evaluate(_OPTIONS)
    assert len(everything) > 600 and "006" not in {v for v, _, _ in everything}

    find.fill("ba dinh")
    assert picker.evaluate(_OPTIONS) == [["001", "Quận Ba Đình", "Thành phố Hà Nội"]]
    assert page.locator("#forward-found").inner_text() == "1 địa bàn phù hợp"

    find.fill("ha noi")
    hanoi = picker.evaluate(_OPTIONS)
    assert len(hanoi) == 29 and {p for _, _, p in hanoi} == {"Thành phố Hà Nội"}
    assert "Quận Ba Đình" in {name for _, name, _ in hanoi}
    page.locator("#forward-form").screenshot(path=str(screenshots_dir / "console-forward.png"))

    # A pick that the next search hides is dropped: what is sent is what is seen.
    picker.select_option("001")
    find.fill("ha giang")
    assert picker.evaluate("s => s.value") == ""
    find.fill("khong co noi nao nhu vay")
    assert picker.evaluate(_OPTIONS) == []
    assert page.locator("#forward-found").inner_text() == "Không có địa bàn nào phù hợp"

    # Enter in the search box goes to the list, it does not send the form.
    find.fill("ba dinh")
    find.press("Enter")
    assert page.url.endswith(f"/console/cases/{world.cases['A3']}")
    assert picker.evaluate("s => s.value") == "001"
    assert picker.evaluate("s => document.activeElement === s")

    page.click("#forward-form button[type=submit]")
    page.wait_for_url("**/console/queue")
    assert _district_of(app, world.cases["A3"]) == "001"
    assert errors == []
    context.close()


def test_without_javascript_the_grouped_list_still_forwards(
    app: Flask, rw_server: RoadWatchServer, browser
) -> None:
    world = build_world(app, app.test_client())
    context = console_context(browser, rw_server.url, java_script_enabled=False)
    page = context.new_page()
    console_login(page, "rev_a")
    page.goto(f"/console/cases/{world.cases['A3']}")
    assert not page.locator("#forward-find").is_visible()  # nothing to type into
    assert not page.locator("#print-case").is_visible()
    group = page.locator("#forward-to optgroup[label='Thành phố Hà Nội'] option")
    assert "Quận Ba Đình" in group.all_inner_texts()
    page.select_option("#forward-to", "001")
    page.click("#forward-form button[type=submit]")
    page.wait_for_url("**/console/queue")
    assert _district_of(app, world.cases["A3"]) == "001"
    context.close()


_SHOWN = "els => els.filter(e => e.getClientRects().length > 0).length"


def test_printing_a_case_gives_a_clean_case_file(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    world = build_world(app, app.test_client())
    decided = post(
        session_for(app, "rev_a"),
        f"/console/cases/{world.cases['A']}/decide",
        {
            "kind": "verify",
            "penalty_no": "QĐ-0421/2026",
            "public_note": "Đã lập biên bản, cảm ơn bạn.",
            "internal_note": "Xe đỗ trên vỉa hè, đủ căn cứ.",
            "confirm_count": "2",
        },
    )
    assert decided.status_code == 302
    context = console_context(browser, rw_server.url, viewport=PRINT_VIEW)
    page = context.new_page()
    console_login(page, "sup_hn")  # a supervisor: the page has reveal links, the file must not
    page.goto(f"/console/cases/{world.cases['A']}")
    assert page.locator("#print-case").is_visible()  # on screen, the button is there
    assert page.locator("a.reveal-link").count() == 2

    page.emulate_media(media="print")
    page.reload()
    page.wait_for_selector("#map[data-boundary-drawn]", state="attached")
    page.locator("figure img").last.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.evaluate("() => window.scrollTo(0, 0)")

    for hidden in ("header.top", "nav", "form", "button", "a.reveal-link", "select", "input"):
        assert page.locator(hidden).evaluate_all(_SHOWN) == 0, hidden
    for shown in ("h1", "#verdict", "figure img", "table.exif", "#points li", ".history li"):
        assert page.locator(shown).evaluate_all(_SHOWN) > 0, shown
    assert world.cases["A"][:8] in page.locator("h1").inner_text()
    assert "Quận Đống Đa" in page.locator("h1").inner_text()
    assert "Galaxy A54" in page.locator("table.exif").first.inner_text()
    history = page.locator(".history").inner_text()
    assert "QĐ-0421/2026" in history and "Đã lập biên bản" in history
    assert page.locator("article.report figure img").count() == 2
    # The first photo beside the decision (issue 26) is not printed twice.
    assert page.locator("#evidence-first").evaluate_all(_SHOWN) == 0
    body = page.content()
    assert all(s not in body for s in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE))

    shot = screenshots_dir / "console-case-print.png"
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":  # a test run leaves tracked files alone
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS / "console-case-print.png")
