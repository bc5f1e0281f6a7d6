"""Violation search in everyday words (pwa/js/violation-search.js) and plain fines
(pwa/js/fines.js), run in Chromium.

The table: what people type ("đèn đỏ", "kep ba", "đậu xe" for đỗ, "bốc đầu", English)
must put the expected violation in the first three results, searching the catalogue as
GET /api/v1/violations serves it (short names and synonyms merged in). Those cases run
against the modules loaded from pwa/js in one page (no server, no database). Then the
capture form, on the real server: type, tap a result, read the chosen violation's full
name and its fines per vehicle class; screenshots in both languages (copied to
docs/screenshots/pwa-search.png and pwa-fines.png when UPDATE_DOC_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from server import catalogue
from sync.schemas import ViolationsSchema
from tests.browser.pages import CHROMIUM, SQLITE_ONLY, App, phone_context_options

PWA = Path(__file__).resolve().parents[2] / "pwa"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ORIGIN = "http://roadwatch.test"
LANGS = ("vi", "en")

# (what someone types, the code expected among the first three results)
PHRASINGS = [
    # the issue's own examples
    ("đèn đỏ", "RED_LIGHT"),
    ("vượt đèn", "RED_LIGHT"),
    ("leo vỉa hè", "SIDEWALK_RIDING"),
    ("đậu xe", "PARK_SIDEWALK_ROADWAY"),
    ("kẹp ba", "MOTO_PASSENGERS_2"),
    ("bốc đầu", "STUNT_RIDING"),
    ("nẹt pô", "REVVING"),
    ("lấn làn", "WRONG_LANE"),
    ("xe ben không che bạt", "SPILLING_MATERIALS"),
    # without diacritics (no Vietnamese keyboard), abbreviations
    ("den do", "RED_LIGHT"),
    ("vuot den do", "RED_LIGHT"),
    ("leo via he", "SIDEWALK_RIDING"),
    ("dau xe tren via he", "PARK_SIDEWALK_ROADWAY"),
    ("kep 3", "MOTO_PASSENGERS_2"),
    ("boc dau", "STUNT_RIDING"),
    ("net po", "REVVING"),
    ("lan lan", "WRONG_LANE"),
    ("xe ben ko che bat", "SPILLING_MATERIALS"),
    ("mu bao hiem", "NO_HELMET"),
    ("khong doi non bao hiem", "NO_HELMET"),
    ("di nguoc chieu", "WRONG_WAY"),
    ("quay dau", "ILLEGAL_UTURN"),
    # southern and slang variants
    ("đậu xe chỗ cấm", "PARK_NO_PARKING_SIGN"),
    ("nón bảo hiểm", "NO_HELMET"),
    ("leo lề", "SIDEWALK_RIDING"),
    ("quẹo trái chỗ cấm", "ILLEGAL_UTURN"),
    ("bóp kèn liên tục", "REVVING"),
    ("đổ xà bần", "DUMPING_ON_ROAD"),
    ("xe dù bắt khách dọc đường", "PICKUP_WRONG_PLACE"),
    ("kẹp bốn", "MOTO_PASSENGERS_3PLUS"),
    ("quái xế đi bão", "GROUP_SPEEDING"),
    ("nghe đt khi chạy xe", "PHONE_USE"),
    ("chợ cóc", "ROAD_SIDEWALK_ENCROACH"),
    # longer sentences, with words the catalogue does not have
    ("lỗi vượt đèn đỏ", "RED_LIGHT"),
    ("vừa chạy xe vừa nghe điện thoại", "PHONE_USE"),
    ("ô tô đậu trên vỉa hè", "PARK_SIDEWALK_ROADWAY"),
    ("bán hàng lấn chiếm vỉa hè", "ROAD_SIDEWALK_ENCROACH"),
    ("lạng lách đánh võng", "WEAVING"),
    ("không thắt dây an toàn", "NO_SEATBELT"),
    ("xe không có biển số", "NO_PLATE"),
    ("che biển số", "PLATE_OBSCURED"),
    ("xe tải chở quá tải", "OVERLOADED_TRUCK"),
    ("xe máy chạy vào cao tốc", "MOTO_ON_EXPRESSWAY"),
    ("đỗ xe trên vạch người đi bộ", "PARK_ON_CROSSWALK"),
    ("không nhường đường cho người đi bộ", "NOT_YIELD_PEDESTRIAN"),
    ("chở hàng cồng kềnh", "BULKY_LOAD_MOTO"),
    ("đua xe", "ILLEGAL_RACING"),
    ("chạy hàng ngang", "RIDING_ABREAST"),
    # English
    ("red light", "RED_LIGHT"),
    ("running a red light", "RED_LIGHT"),
    ("no helmet", "NO_HELMET"),
    ("parked on the sidewalk", "PARK_SIDEWALK_ROADWAY"),
    ("riding on the pavement", "SIDEWALK_RIDING"),
    ("wrong way", "WRONG_WAY"),
    ("u-turn", "ILLEGAL_UTURN"),
    ("texting while driving", "PHONE_USE"),
    ("wheelie", "STUNT_RIDING"),
    ("three on a motorbike", "MOTO_PASSENGERS_2"),
    ("uncovered dump truck", "SPILLING_MATERIALS"),
    ("bus lane", "PARK_BUS_LANE"),
    ("street racing", "ILLEGAL_RACING"),
    ("no seatbelt", "NO_SEATBELT"),
    # half typed
    ("đèn đ", "RED_LIGHT"),
    ("mu bao hi", "NO_HELMET"),
    ("parki", "PARK_SIDEWALK_ROADWAY"),
]

_LOAD = """async () => {
  const s = await import('/js/violation-search.js');
  const f = await import('/js/fines.js');
  const body = await (await fetch('/api/v1/violations')).json();
  const index = s.buildIndex(body.violations);
  window.rw = {
    s, f, body, index,
    top: (q) => s.search(index, q, 8).map((r) => r.v.code),
  };
}"""


def _wire_catalogue() -> str:
    body = {
        "violations": list(catalogue.violations()),
        "synonyms_version": catalogue.synonyms_version(),
    }
    return json.dumps(ViolationsSchema().dump(body), ensure_ascii=False)


@pytest.fixture(scope="module")
def modules(browser):
    """A page with the search and fines modules loaded from pwa/js and the catalogue."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium")
    context = browser.new_context()
    catalogue_json = _wire_catalogue()

    def serve(route):
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/api/v1/violations":
            route.fulfill(body=catalogue_json, content_type="application/json")
        elif path.startswith("/js/"):
            route.fulfill(path=str(PWA / path.lstrip("/")), content_type="text/javascript")
        else:
            route.fulfill(body="<!doctype html><title>search</title>", content_type="text/html")

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    page.evaluate(_LOAD)
    yield page
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("query", "code"), PHRASINGS, ids=[q for q, _ in PHRASINGS])
def test_everyday_phrasing_finds_its_violation_in_the_top_three(modules, query, code):
    top = modules.evaluate("(q) => rw.top(q)", query)
    assert code in top[:3], f"{query!r}: {top[:5]}"


@pytest.mark.browser
def test_the_table_is_long_enough_and_covers_each_kind_of_phrasing():
    assert len(PHRASINGS) >= 25
    assert {c for _, c in PHRASINGS} >= {"RED_LIGHT", "PARK_SIDEWALK_ROADWAY", "MOTO_PASSENGERS_2"}


@pytest.mark.browser
def test_ranking_exact_phrase_then_every_word_then_some_words(modules):
    entries = [
        {"code": "SOME", "name_vi": "Đèn xe", "name_en": "", "synonyms_vi": []},
        {"code": "ALL", "name_vi": "Đỏ mặt vì đèn", "name_en": "", "synonyms_vi": []},
        {"code": "PHRASE", "name_vi": "Khác", "name_en": "", "synonyms_vi": ["đèn đỏ"]},
        {"code": "NONE", "name_vi": "Xe buýt", "name_en": "", "synonyms_vi": []},
    ]
    got = modules.evaluate(
        "(list) => rw.s.search(rw.s.buildIndex(list), 'đèn đỏ', 8).map((r) => r.v.code)", entries
    )
    assert got == ["PHRASE", "ALL", "SOME"] or got == ["PHRASE", "ALL"]


@pytest.mark.browser
def test_folding_diacritics_and_empty_queries(modules):
    assert modules.evaluate("() => rw.s.fold('Đỗ XE Đạp ĐÈN Đỏ')") == "do xe dap den do"
    assert modules.evaluate("() => rw.top('')") == []
    assert modules.evaluate("() => rw.top('   ')") == []
    assert modules.evaluate("() => rw.top('zzzz qqqq')") == []
    # "đỏ" (red) and "đỗ" (park) fold alike; the diacritics typed break the tie.
    assert modules.evaluate("() => rw.top('đỗ xe')")[0].startswith("PARK_")


@pytest.mark.browser
def test_plain_fines_per_vehicle_class_in_both_languages(modules):
    lines = modules.evaluate(
        """() => {
          const v = rw.body.violations.find((x) => x.code === 'PARK_SIDEWALK_ROADWAY');
          return { vi: rw.f.fineLines(v, 'vi', ''), en: rw.f.fineLines(v, 'en', 'motorbike') };
        }"""
    )
    assert [line["text"] for line in lines["vi"]] == [
        "Ô tô: phạt 800.000–1.000.000 đồng (Điều 6, khoản 3, điểm e, Nghị định 168/2024/NĐ-CP)",
        "Xe máy: phạt 400.000–600.000 đồng (Điều 7, khoản 2, điểm d, Nghị định 168/2024/NĐ-CP)",
        "Xe đạp, xe đạp máy: phạt 100.000–200.000 đồng "
        "(Điều 9, khoản 1, điểm k, Nghị định 168/2024/NĐ-CP)",
    ]
    assert lines["en"][0] == {
        "text": "Motorbike: fine of 400,000–600,000 VND "
        "(Article 7, clause 2, point d, Decree 168/2024/NĐ-CP)",
        "current": True,
    }
    assert [line["current"] for line in lines["en"]] == [True, False, False]


@pytest.mark.browser
def test_every_fine_of_the_catalogue_reads_in_words(modules):
    bad = modules.evaluate(
        """() => rw.body.violations.flatMap((v) => ['vi', 'en'].flatMap((lang) =>
            rw.f.fineLines(v, lang).map((l) => l.text)
              .filter((t) => !/^[^:_]+: .+ \\((Điều|Article) \\d+, (khoản|clause) \\d+/.test(t)
                || /null|undefined|NaN|_/.test(t))))"""
    )
    assert bad == []


def _shot(page, out: Path, name: str) -> Path:
    page.wait_for_timeout(150)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _side_by_side(left: Path, right: Path, dest: Path) -> None:
    """Two 390x844 phone screenshots next to each other (Vietnamese, English)."""
    with Image.open(left) as a, Image.open(right) as b:
        both = Image.new("RGB", (a.width + 12 + b.width, max(a.height, b.height)), "#ffffff")
        both.paste(a, (0, 0))
        both.paste(b, (a.width + 12, 0))
        both.quantize(256).save(dest, optimize=True)  # a palette: a third of the bytes


def _search_and_choose(page, app: App, out: Path, lang: str) -> tuple[Path, Path]:
    app.open(f"/?lang={lang}")
    app.wait_catalogue()
    form = app.form
    page.evaluate(
        "() => window.scrollTo(0, document.querySelector('#sec-violation').offsetTop - 64)"
    )
    form.locator("input[name=violation_search]").fill("đậu xe" if lang == "vi" else "parking")
    page.wait_for_selector("#violation-results:not([hidden]) button")
    first = page.locator("#violation-results button").first
    assert first.get_attribute("data-code") == "PARK_SIDEWALK_ROADWAY"
    search_shot = _shot(page, out, f"{lang}-20-violation-search")

    form.locator("input[name=violation_search]").fill("đèn đỏ" if lang == "vi" else "red light")
    page.locator("#violation-results button[data-code=RED_LIGHT]").click()
    assert form.locator("select[name=violation]").input_value() == "RED_LIGHT"
    assert page.locator("#violation-results").is_hidden()
    form.locator("input[name=vehicle_class][value=motorbike]").check(force=True)
    chosen = page.locator("#violation-chosen")
    page.wait_for_selector("#violation-chosen .fines li.current")
    full = "Không chấp hành hiệu lệnh của đèn tín hiệu giao thông"
    assert chosen.locator(".chosen-name").inner_text() == (
        full if lang == "vi" else "Running a red light / ignoring traffic signals"
    )
    current = chosen.locator(".fines li.current").inner_text()
    if lang == "vi":
        assert current == (
            "Xe máy: phạt 4.000.000–6.000.000 đồng "
            "(Điều 7, khoản 7, điểm c, Nghị định 168/2024/NĐ-CP)"
        )
    else:
        assert current.startswith("Motorbike: fine of 4,000,000–6,000,000 VND (Article 7,")
    assert chosen.locator(".fines li").count() == 3
    # The full name wraps: nothing of it is cut off.
    assert chosen.locator(".chosen-name").evaluate("n => n.scrollWidth <= n.clientWidth")
    page.evaluate(
        "() => window.scrollTo(0, document.querySelector('#sec-violation').offsetTop - 64)"
    )
    return search_shot, _shot(page, out, f"{lang}-21-violation-fines")


@SQLITE_ONLY
@pytest.mark.browser
def test_capture_form_search_tap_and_plain_fines(browser, rw_server, screenshots_dir):
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=True))
    try:
        page = context.new_page()
        app = App(page)
        shots = {lang: _search_and_choose(page, app, screenshots_dir, lang) for lang in LANGS}
        # Enter in the search box picks the first result rather than submitting the form.
        app.form.locator("input[name=violation_search]").fill("kẹp ba")
        app.form.locator("input[name=violation_search]").press("Enter")
        assert app.form.locator("select[name=violation]").input_value() == "MOTO_PASSENGERS_2"
        assert page.locator("#err-form").is_hidden()
    finally:
        context.close()
    search = screenshots_dir / "pwa-search.png"
    fines = screenshots_dir / "pwa-fines.png"
    _side_by_side(shots["vi"][0], shots["en"][0], search)
    _side_by_side(shots["vi"][1], shots["en"][1], fines)
    if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":  # a test run leaves tracked files alone
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(search, DOCS / "pwa-search.png")
        shutil.copy(fines, DOCS / "pwa-fines.png")
