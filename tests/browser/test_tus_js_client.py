"""tus-js-client, the reference browser client, against /api/v1/uploads (issue 17 item 7).

A client that lost its upload URL creates the upload again and PATCHes from 0: it must
succeed without leaning on its retries (``retryDelays: null``), and the evidence must be
stored once. tus-js-client 4.3.1 is vendored (tests/browser/vendor/tus-js-client, no npm
at run time) and runs in Debian's Chromium on a blank page of the server's origin.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from server.extensions import db
from server.models import Media
from server.settings import settings_of
from server.storage import MediaStore
from tests.browser.pages import BROWSER
from tests.factories import Api, MediaFile, blob_files, photo, report_body

pytestmark = BROWSER

VENDOR = Path(__file__).resolve().parent / "vendor" / "tus-js-client"
TUS_JS = VENDOR / "tus.min.js"
TUS_JS_SHA256 = "8cbb1b63fccc3bba0ae73ad1deb160ce046c3750851d0c3e94921ae3ef070eb8"
KIB = 1024

_UPLOAD = """async ({data, endpoint, token, rid, mid, stopAt}) => {
  const bin = atob(data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const file = new Blob([bytes], { type: 'image/jpeg' });
  return await new Promise((resolve) => {
    let stopped = false;
    const upload = new tus.Upload(file, {
      endpoint,
      headers: { Authorization: 'Bearer ' + token },
      chunkSize: 256 * 1024,
      retryDelays: null,
      storeFingerprintForResuming: false,
      metadata: { report_id: rid, media_id: mid, filename: 'IMG_0001.jpg', filetype: 'image/jpeg' },
      onChunkComplete: (_size, accepted) => {
        if (stopAt && accepted >= stopAt && !stopped) {
          stopped = true;
          upload.abort().then(() => resolve({ stopped: accepted, url: upload.url }));
        }
      },
      onError: (err) => resolve({ error: String(err) }),
      onSuccess: () => resolve({ ok: true, url: upload.url }),
    });
    upload.start();
  });
}"""


@pytest.fixture
def page(phone, rw_server):
    page = phone.new_page()
    blank = f"{rw_server.url}/tus-js-client-test.html"
    page.route(blank, lambda route: route.fulfill(body="<!doctype html><title>t</title>"))
    page.goto(blank)
    assert hashlib.sha256(TUS_JS.read_bytes()).hexdigest() == TUS_JS_SHA256  # as published
    page.add_script_tag(path=str(TUS_JS))
    return page


def upload(page, rw_server, api: Api, rid: str, media: MediaFile, stop_at: int = 0) -> Any:
    return page.evaluate(
        _UPLOAD,
        {
            "data": base64.b64encode(media.data).decode(),
            "endpoint": f"{rw_server.url}/api/v1/uploads",
            "token": api.token,
            "rid": rid,
            "mid": media.media_id,
            "stopAt": stop_at,
        },
    )


def test_tus_js_client_that_lost_its_url_creates_again_and_succeeds_storing_once(page, rw_server):
    app = rw_server.app
    api = Api.register(app.test_client())
    media = MediaFile(photo().data + os.urandom(1200 * KIB))
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201

    first = upload(page, rw_server, api, rid, media, stop_at=512 * KIB)
    assert first.get("stopped", 0) >= 512 * KIB, first  # the tab is closed: URL lost

    second = upload(page, rw_server, api, rid, media)  # a new upload, no retries
    assert second.get("ok"), second
    assert second["url"] != first["url"]
    third = upload(page, rw_server, api, rid, media)  # lost the last answer: again
    assert third.get("ok"), third

    with app.app_context():
        assert db.session.get(Media, media.media_id).received_at is not None
    root = settings_of(app).media_root
    stored = MediaStore(root).blob_path(media.decl["sha256"])
    assert blob_files(app) == [stored] and stored.read_bytes() == media.data
    assert os.listdir(Path(root) / "uploads") == []  # the old partial was discarded
    patches = [h for h in rw_server.traffic.uploads() if h.method == "PATCH"]
    assert all(h.status == 204 for h in patches), [(h.upload_offset, h.status) for h in patches]
