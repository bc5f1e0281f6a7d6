"""The case page's "Tải gói bằng chứng" button: the evidence package as a download.

A POST (with the session's CSRF token) because it writes an audit entry; the case is
reached through :func:`.access.case_for` (404 outside the user's districts). The package
never holds an informant's identity.
"""

from __future__ import annotations

import tempfile

from flask import send_file
from werkzeug.wrappers import Response

from ..extensions import db
from ..services import accounts
from ..services.evidence_package import write_package
from . import bp
from .access import case_for
from .auth import current_user


@bp.route("/cases/<case_id>/evidence-package", methods=["POST"])
def evidence_package(case_id: str) -> Response:
    user = current_user()
    assert user is not None  # the guard of auth.py let only signed-in users through
    case = case_for(user, case_id)
    out = tempfile.TemporaryFile()  # closed by the response
    write_package(case, out)
    accounts.audit(user, "evidence_export", case_id=case.id, detail="console")
    db.session.commit()
    out.seek(0)
    response = send_file(
        out,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"goi-bang-chung-{case.id[:8]}.zip",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
