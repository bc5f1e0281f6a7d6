"""Signed captures in Chromium (issue 16, item 1): the PWA makes a non-extractable
P-256 key with WebCrypto, keeps it in IndexedDB, seals each capture when it is saved,
registers the key with its device, and the server finds the seal valid; a manifest
edited on the phone after the seal is stored but flagged ``signature_invalid``.
The manifest the browser builds is byte for byte the one sync/seal.py builds."""

from __future__ import annotations

import json
import time

from server.extensions import db
from server.models import DeviceKey, Report
from sync import seal
from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER

SET_MANIFEST = """async ([id, manifest]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('roadwatch');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const store = db.transaction('reports', 'readwrite').objectStore('reports');
    const get = store.get(id);
    get.onsuccess = () => {
      const r = get.result;
      r.signature = { ...r.signature, manifest };
      const put = store.put(r);
      put.onsuccess = () => { db.close(); resolve(true); };
      put.onerror = () => reject(put.error);
    };
  };
})"""

RECORD_SEAL = """async (id) => new Promise((resolve, reject) => {
  const open = indexedDB.open('roadwatch');
  open.onsuccess = () => {
    const req = open.result.transaction('reports').objectStore('reports').get(id);
    req.onsuccess = () => { open.result.close(); resolve(req.result.signature || null); };
    req.onerror = () => reject(req.error);
  };
})"""


def _stored(app, report_id: str, timeout: float = 30) -> Report:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            report = db.session.get(Report, report_id)
            if report is not None:
                db.session.expunge(report)
                return report
        time.sleep(0.1)
    raise AssertionError(f"report {report_id} never reached the server")


def test_a_capture_is_sealed_in_chromium_and_verified_by_the_server(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    version = page.evaluate("document.documentElement.dataset.version")
    key = page.evaluate(
        """async (url) => {
            const { deviceKey } = await import(url);
            const k = await deviceKey();
            const again = await deviceKey();
            return { extractable: k.privateKey.extractable, usages: k.privateKey.usages,
                     algorithm: k.privateKey.algorithm, same: k.spki === again.spki,
                     spki: k.spki };
        }""",
        f"/a/{version}/js/signing.js",
    )
    assert key["extractable"] is False and key["usages"] == ["sign"]
    assert key["algorithm"] == {"name": "ECDSA", "namedCurve": "P-256"} and key["same"]

    report_id = app.capture([file_payload("vi-pham.jpg", photo(200_000, seed=3))])
    app.show_reports()
    app.wait_state(report_id, "sent")
    report = _stored(rw_server.app, report_id)
    assert report.signature_status == "valid", report.flags
    assert "unsigned" not in report.flags and "signature_invalid" not in report.flags
    with rw_server.app.app_context():
        stored_key = db.session.get(DeviceKey, report.device_id)
        assert stored_key.public_key == key["spki"]
    manifest = json.loads(report.capture_manifest)
    assert manifest["report_id"] == report_id
    assert manifest["app_version"] == f"roadwatch-pwa/{version[:40]}"
    body = {
        "captured_at": report.captured_at.isoformat(),
        "location": {"lat": report.lat, "lon": report.lon, "source": report.location_source},
        "media": [
            {"media_id": m["media_id"], "sha256": m["sha256"], "size": m["size"]}
            for m in manifest["media"]
        ],
    }
    # The browser's canonical manifest is the one sync/seal.py makes from the same report.
    assert report.capture_manifest == seal.manifest(report_id, body, manifest["app_version"])


def test_a_manifest_edited_after_the_seal_is_flagged_by_the_server(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    app.wait_controlled()
    phone.set_offline(True)
    report_id = app.capture([file_payload("vi-pham.jpg", photo(150_000, seed=4))])
    signature = page.evaluate(RECORD_SEAL, report_id)
    assert signature and len(signature["value"]) == 86  # sealed at capture, offline
    manifest = json.loads(signature["manifest"])
    manifest["location"]["lat"] = "21.000000"  # somewhere else
    page.evaluate(SET_MANIFEST, [report_id, seal.canonical(manifest)])
    phone.set_offline(False)
    app.show_reports()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    report = _stored(rw_server.app, report_id)
    assert report.signature_status == "invalid"
    assert "signature_invalid" in report.flags
