"""Today's map: boundary sets, areas, units covering areas, reviewers in units; every
report and case re-routed to today's commune with its old district kept as history

Tables: ``boundary_sets`` (the shipped pre-2025 districts, historical, and the shipped
2025 communes, current; sets imported by ``flask boundaries import``), ``areas`` (the
areas of imported sets), ``units`` and ``unit_areas`` (a unit covers areas, many to
many), ``user_units`` (reviewers belong to units).

Columns: ``reports.legacy_district_code`` and ``cases.legacy_district_code`` keep the
pre-2025 district a row was routed to.

Data: when the 2025 communes are shipped (data/boundaries/vn_communes_2025.geojson.gz),
each report is routed again from its stored location with today's index (its old
district kept in ``legacy_district_code``), each case takes the area of its first report
and that area's own police (``CA-<commune>``) with a ``rerouted`` history row, and
supervisors' old province codes become the new province's (the province crosswalk).
A report no rule can place keeps ``district_code`` NULL (the unrouted queue) and is
listed by ``flask --app wsgi boundaries unmapped``; nothing is deleted. The stats
triggers of 0016 mark the touched buckets dirty.

Revision ID: 0017
Revises: 0016
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries"
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "boundary_sets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("area_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default="system"),
    )
    op.create_table(
        "areas",
        sa.Column(
            "set_id",
            sa.String(32),
            sa.ForeignKey("boundary_sets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default=""),
        sa.Column("province_code", sa.String(16), nullable=False),
        sa.Column("province_name", sa.String(200), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("geometry", sa.Text(), nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("province_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False, server_default="system"),
    )
    op.create_table(
        "unit_areas",
        sa.Column(
            "unit_code",
            sa.String(32),
            sa.ForeignKey("units.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("area_code", sa.String(16), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(64), nullable=False, server_default="system"),
    )
    op.create_index("ix_unit_areas_area_code", "unit_areas", ["area_code"])
    op.create_table(
        "user_units",
        sa.Column(
            "user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("unit_code", sa.String(32), primary_key=True),
    )
    op.add_column("reports", sa.Column("legacy_district_code", sa.String(16), nullable=True))
    op.add_column("cases", sa.Column("legacy_district_code", sa.String(16), nullable=True))

    conn = op.get_bind()
    sets = sa.table(
        "boundary_sets",
        sa.column("id"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("effective_date", sa.Date()),
        sa.column("source"),
        sa.column("area_count"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by"),
    )
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    if conn.dialect.name == "sqlite":  # as server.models.types.UTCDateTime stores it
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        sets,
        [
            {
                "id": "pre2025",
                "name": "63 tỉnh, 705 huyện (trước 1/7/2025)",
                "kind": "historical",
                "effective_date": None,
                "source": "shipped:vn_adm2_districts_pre2025.geojson.gz",
                "area_count": 0,
                "created_at": now,
                "created_by": "migration 0017",
            },
            {
                "id": "2025",
                "name": "34 tỉnh, thành phố và các xã, phường, đặc khu (từ 1/7/2025)",
                "kind": "current",
                "effective_date": dt.date(2025, 7, 1),
                "source": "shipped:vn_communes_2025.geojson.gz",
                "area_count": 0,
                "created_at": now,
                "created_by": "migration 0017",
            },
        ],
    )
    _reroute_existing(conn, now)
    _supervisor_provinces(conn)


def _reroute_existing(conn: sa.engine.Connection, now) -> None:
    """Existing reports and cases: old district kept, today's area and unit from the
    report's location (nothing to do on an empty database or without the 2025 data)."""
    if conn.execute(sa.text("SELECT count(*) FROM reports")).scalar() == 0:
        return
    if not (DATA / "vn_communes_2025.geojson.gz").is_file():
        return
    import numpy as np

    from server.district_index import RULES, DistrictIndex

    index = DistrictIndex.load_2025()
    codes = [d.code for d in index.districts()]
    conn.execute(sa.text("UPDATE reports SET legacy_district_code = district_code"))
    last = ""
    update = sa.text(
        "UPDATE reports SET district_code = :code, route_rule = :rule, "
        "route_distance_m = :dist WHERE id = :id"
    )
    while True:
        rows = conn.execute(
            sa.text("SELECT id, lat, lon FROM reports WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        idx, rule, dist = index.route_indices(
            np.array([r[1] for r in rows], float), np.array([r[2] for r in rows], float)
        )
        conn.execute(
            update,
            [
                {
                    "id": r[0],
                    "code": codes[i] if i >= 0 else None,
                    "rule": RULES[k],
                    "dist": None if i < 0 else float(d),
                }
                for r, i, k, d in zip(rows, idx.tolist(), rule.tolist(), dist.tolist(), strict=True)
            ],
        )
    conn.execute(sa.text("UPDATE cases SET legacy_district_code = district_code"))
    conn.execute(
        sa.text(
            "UPDATE cases SET district_code = "
            "(SELECT r.district_code FROM reports r WHERE r.id = cases.first_report_id)"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO case_events (case_id, kind, from_district, to_district, from_unit, "
            "to_unit, actor, created_at) "
            "SELECT id, 'rerouted', legacy_district_code, district_code, unit_code, "
            "CASE WHEN district_code IS NULL THEN NULL ELSE 'CA-' || district_code END, "
            "'migration 0017', :now FROM cases"
        ),
        {"now": now},
    )
    conn.execute(
        sa.text(
            "UPDATE cases SET unit_code = CASE WHEN district_code IS NULL THEN NULL "
            "ELSE 'CA-' || district_code END"
        )
    )


def _supervisor_provinces(conn: sa.engine.Connection) -> None:
    """Supervisors' pre-2025 province codes become today's (whole provinces merged)."""
    path = DATA / "crosswalk_provinces_2025.json"
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as fh:
        crosswalk = json.load(fh)
    rows = conn.execute(
        sa.text("SELECT id, province_code FROM users WHERE province_code IS NOT NULL")
    ).all()
    for uid, code in rows:
        new = (crosswalk.get(code) or {}).get("new_code")
        if new and new != code:
            conn.execute(
                sa.text("UPDATE users SET province_code = :p WHERE id = :id"),
                {"p": new, "id": uid},
            )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE reports SET district_code = legacy_district_code "
            "WHERE legacy_district_code IS NOT NULL"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE cases SET district_code = legacy_district_code, "
            "unit_code = 'CA-' || legacy_district_code WHERE legacy_district_code IS NOT NULL"
        )
    )
    # Plain ALTER TABLE (SQLite >= 3.35 and PostgreSQL): a batch copy would drop the
    # statistics triggers of 0016 with the old table.
    for table in ("cases", "reports"):
        conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN legacy_district_code"))
    op.drop_table("user_units")
    op.drop_index("ix_unit_areas_area_code", table_name="unit_areas")
    op.drop_table("unit_areas")
    op.drop_table("units")
    op.drop_table("areas")
    op.drop_table("boundary_sets")
