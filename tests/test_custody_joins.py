"""Automatic case joins are in the custody trail (issue 16, items 3 and 5 follow-up).

A reviewer's merge has always been an audit entry (``cases_merged``) and so a chain
entry; the joins the server makes by itself were not. Now a report that joins an
existing case at ingest, and a case absorbed because of a similar photo on receipt, each
append a ``case_joined`` entry whose subject is the surviving case. ``audit verify``
still passes, and the case's evidence package carries the entry and verifies offline.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.models import CustodyEntry
from server.services.evidence_package import find_case, write_package
from sync import verify
from tests.factories import MediaFile
from tests.test_cases import COPIES, CORNER, ORIGINAL, case_of, moved, send


def _joins(app: Flask) -> list[tuple[str, dict]]:
    with app.app_context():
        query = sa.select(CustodyEntry).where(CustodyEntry.kind == "case_joined")
        rows = db.session.scalars(query.order_by(CustodyEntry.seq)).all()
        return [(r.subject, json.loads(r.content)) for r in rows]


def _audit_verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _package_verdict(app: Flask, case_id: str, tmp_path: Path) -> tuple[list[dict], int, str]:
    with app.app_context():
        buf = io.BytesIO()
        write_package(find_case(case_id), buf)
    path = tmp_path / "package.zip"
    path.write_bytes(buf.getvalue())
    with zipfile.ZipFile(path) as zf:
        lines = zf.read("custody/entries.jsonl").decode().splitlines()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([str(path)])
    return [json.loads(line) for line in lines], code, out.getvalue()


def test_a_report_joining_a_case_at_ingest_is_a_chain_entry_in_the_package(
    app: Flask, client, tmp_path: Path
) -> None:
    api_a, a, _ = send(client, plate="30A-123.45")
    assert _joins(app) == []  # opening a case is not a join
    api_b, b, _ = send(client, plate="30A12345", minutes=4, at=moved(*CORNER, north_m=20))
    case_id = case_of(api_a, a)
    assert case_of(api_b, b) == case_id
    assert _joins(app) == [
        (
            case_id,
            {
                "case_id": case_id,
                "report_id": b,
                "reason": "same_plate",
                "match_report_id": a,
                "absorbed_case_id": None,
                "actor": "system",
            },
        )
    ]
    code, output = _audit_verify(app)
    assert code == 0 and output.startswith("OK"), output

    entries, code, printed = _package_verdict(app, case_id, tmp_path)
    joined = [e for e in entries if e["kind"] == "case_joined"]
    assert [e["content"]["report_id"] for e in joined] == [b]
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed


def test_a_similar_photo_merge_on_receipt_is_a_chain_entry_in_the_package(
    app: Flask, client, tmp_path: Path
) -> None:
    api_a, a, [pic_a] = send(client, plate="30A-123.45", media=[MediaFile(ORIGINAL)])
    api_b, b, [pic_b] = send(
        client,
        plate="",
        minutes=10,
        at=moved(*CORNER, east_m=-60),
        media=[MediaFile(COPIES["reencoded-q60"])],
    )
    case_a, case_b = case_of(api_a, a), case_of(api_b, b)
    assert case_a != case_b and _joins(app) == []
    assert api_a.put_media(a, pic_a).status_code == 201
    assert api_b.put_media(b, pic_b).status_code == 201
    assert case_of(api_b, b) == case_a  # b's case was absorbed by the older case

    [(subject, content)] = _joins(app)
    assert subject == case_a
    assert content == {
        "case_id": case_a,
        "report_id": b,
        "reason": "similar_media",
        "match_report_id": a,
        "absorbed_case_id": case_b,
        "actor": "system",
    }
    code, output = _audit_verify(app)
    assert code == 0 and output.startswith("OK"), output

    entries, code, printed = _package_verdict(app, case_a, tmp_path)
    kinds = [e["kind"] for e in entries]
    assert "case_joined" in kinds
    # The join is chained after the absorbed report's statuses and before its receipt.
    assert kinds.index("case_joined") < len(kinds) - 1 and kinds[-1] == "evidence_received"
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed
