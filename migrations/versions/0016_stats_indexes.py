"""Pre-aggregated statistics: stats_rollup, stats_dirty and the triggers that keep them exact

``stats_rollup`` holds counts per district, local month (UTC+7), kind (reports/cases),
dimension and key (server/models/stats.py). Triggers on ``reports``, ``cases`` and
``status_events`` append the (district, month) buckets a change touches to
``stats_dirty``, in the change's own transaction, whatever code made it (ORM, Core or
SQL by hand); server/services/stats_rollup.py recomputes dirty buckets before reading.
Existing data is marked dirty here and is aggregated on the first read (or by
``flask --app wsgi stats refresh``).

``cases.stats_month``, the local month of a case's first report, is kept by triggers
too (when a case gets its first report, when that report is stored or its time changes),
so that a district-month of cases is an index range (``ix_cases_district_month``).

Indexes: ``ix_reports_district_captured`` (a district-month of reports),
``ix_cases_first_report`` (the triggers' lookup), ``ix_reports_hotspot`` (the hotspot map
reads a period's points from the index alone).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# Columns whose change can move a count (a copy, not an import: a migration must not
# change when the application does).
REPORT_COLUMNS = (
    "district_code, captured_at, received_at, violation, status, reporter_kind, case_id, "
    "plate_match_key, plate_display"
)
CASE_COLUMNS = "district_code, status, verdict, first_report_id"

SQLITE_MONTH = "strftime('%Y-%m', {0}, '+7 hours')"


def _sqlite_marks(row: str) -> str:
    """Statements marking the buckets of a reports row (``NEW`` or ``OLD``)."""
    month = SQLITE_MONTH.format(f"{row}.captured_at")
    return f"""
    INSERT INTO stats_dirty (district_code, month)
        VALUES (coalesce({row}.district_code, ''), {month});
    INSERT INTO stats_dirty (district_code, month)
        SELECT coalesce(c.district_code, ''), {month} FROM cases c
        WHERE c.id = {row}.case_id AND c.first_report_id = {row}.id;"""


def _sqlite_case_marks(row: str) -> str:
    return f"""
    INSERT INTO stats_dirty (district_code, month)
        SELECT coalesce({row}.district_code, ''), {SQLITE_MONTH.format('r.captured_at')}
        FROM reports r WHERE r.id = {row}.first_report_id;"""


SQLITE_EVENT_MARKS = f"""
    INSERT INTO stats_dirty (district_code, month)
        SELECT coalesce(r.district_code, ''), {SQLITE_MONTH.format('r.captured_at')}
        FROM reports r WHERE r.id = NEW.report_id;
    INSERT INTO stats_dirty (district_code, month)
        SELECT coalesce(c.district_code, ''), {SQLITE_MONTH.format('r.captured_at')}
        FROM reports r JOIN cases c ON c.id = r.case_id AND c.first_report_id = r.id
        WHERE r.id = NEW.report_id;"""

# cases.stats_month follows its first report (SQLite: an AFTER trigger updates the row).
SQLITE_CASE_MONTH = f"""
    UPDATE cases SET stats_month = (
        SELECT {SQLITE_MONTH.format('r.captured_at')} FROM reports r
        WHERE r.id = NEW.first_report_id)
    WHERE id = NEW.id;"""
SQLITE_REPORT_MONTH = f"""
    UPDATE cases SET stats_month = {SQLITE_MONTH.format('NEW.captured_at')}
    WHERE first_report_id = NEW.id;"""

SQLITE_TRIGGERS = [
    "CREATE TRIGGER stats_cases_month_ins AFTER INSERT ON cases BEGIN"
    f" {SQLITE_CASE_MONTH} END",
    "CREATE TRIGGER stats_cases_month_upd AFTER UPDATE OF first_report_id ON cases BEGIN"
    f" {SQLITE_CASE_MONTH} END",
    "CREATE TRIGGER stats_reports_month AFTER UPDATE OF captured_at ON reports BEGIN"
    f" {SQLITE_REPORT_MONTH} END",
    f"CREATE TRIGGER stats_reports_ins AFTER INSERT ON reports BEGIN {SQLITE_REPORT_MONTH}"
    f" {_sqlite_marks('NEW')} END",
    f"CREATE TRIGGER stats_reports_upd AFTER UPDATE OF {REPORT_COLUMNS} ON reports BEGIN"
    f" {_sqlite_marks('OLD')} {_sqlite_marks('NEW')} END",
    f"CREATE TRIGGER stats_reports_del AFTER DELETE ON reports BEGIN {_sqlite_marks('OLD')} END",
    f"CREATE TRIGGER stats_cases_ins AFTER INSERT ON cases BEGIN {_sqlite_case_marks('NEW')} END",
    f"CREATE TRIGGER stats_cases_upd AFTER UPDATE OF {CASE_COLUMNS} ON cases BEGIN"
    f" {_sqlite_case_marks('OLD')} {_sqlite_case_marks('NEW')} END",
    f"CREATE TRIGGER stats_cases_del AFTER DELETE ON cases BEGIN {_sqlite_case_marks('OLD')} END",
    f"CREATE TRIGGER stats_events_ins AFTER INSERT ON status_events BEGIN {SQLITE_EVENT_MARKS} END",
]
SQLITE_TRIGGER_NAMES = [
    "stats_cases_month_ins", "stats_cases_month_upd", "stats_reports_month",
    "stats_reports_ins", "stats_reports_upd", "stats_reports_del",
    "stats_cases_ins", "stats_cases_upd", "stats_cases_del", "stats_events_ins",
]

PG_FUNCTIONS = [
    """CREATE FUNCTION stats_month(t timestamptz) RETURNS text IMMUTABLE LANGUAGE sql AS $$
        SELECT to_char((t AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM') $$""",
    """CREATE FUNCTION stats_mark_report(r reports) RETURNS void LANGUAGE sql AS $$
        INSERT INTO stats_dirty (district_code, month)
            VALUES (coalesce(r.district_code, ''), stats_month(r.captured_at));
        INSERT INTO stats_dirty (district_code, month)
            SELECT coalesce(c.district_code, ''), stats_month(r.captured_at) FROM cases c
            WHERE c.id = r.case_id AND c.first_report_id = r.id $$""",
    """CREATE FUNCTION stats_mark_case(c cases) RETURNS void LANGUAGE sql AS $$
        INSERT INTO stats_dirty (district_code, month)
            SELECT coalesce(c.district_code, ''), stats_month(r.captured_at)
            FROM reports r WHERE r.id = c.first_report_id $$""",
    """CREATE FUNCTION stats_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN PERFORM stats_mark_report(OLD); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM stats_mark_report(NEW); END IF;
            IF TG_OP = 'INSERT' THEN
                UPDATE cases SET stats_month = stats_month(NEW.captured_at)
                WHERE first_report_id = NEW.id;
            ELSIF TG_OP = 'UPDATE' THEN
                IF NEW.captured_at IS DISTINCT FROM OLD.captured_at THEN
                    UPDATE cases SET stats_month = stats_month(NEW.captured_at)
                    WHERE first_report_id = NEW.id;
                END IF;
            END IF;
            RETURN NULL;
        END $$""",
    """CREATE FUNCTION stats_case_month() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.stats_month := (SELECT stats_month(r.captured_at) FROM reports r
                                WHERE r.id = NEW.first_report_id);
            RETURN NEW;
        END $$""",
    """CREATE FUNCTION stats_cases_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN PERFORM stats_mark_case(OLD); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM stats_mark_case(NEW); END IF;
            RETURN NULL;
        END $$""",
    """CREATE FUNCTION stats_events_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM stats_mark_report(r) FROM reports r WHERE r.id = NEW.report_id;
            RETURN NULL;
        END $$""",
]
PG_TRIGGERS = [
    "CREATE TRIGGER stats_cases_month BEFORE INSERT OR UPDATE OF first_report_id ON cases"
    " FOR EACH ROW EXECUTE FUNCTION stats_case_month()",
    "CREATE TRIGGER stats_reports_ins AFTER INSERT OR DELETE ON reports"
    " FOR EACH ROW EXECUTE FUNCTION stats_reports_changed()",
    f"CREATE TRIGGER stats_reports_upd AFTER UPDATE OF {REPORT_COLUMNS} ON reports"
    " FOR EACH ROW EXECUTE FUNCTION stats_reports_changed()",
    "CREATE TRIGGER stats_cases_ins AFTER INSERT OR DELETE ON cases"
    " FOR EACH ROW EXECUTE FUNCTION stats_cases_changed()",
    f"CREATE TRIGGER stats_cases_upd AFTER UPDATE OF {CASE_COLUMNS} ON cases"
    " FOR EACH ROW EXECUTE FUNCTION stats_cases_changed()",
    "CREATE TRIGGER stats_events_ins AFTER INSERT ON status_events"
    " FOR EACH ROW EXECUTE FUNCTION stats_events_changed()",
]
PG_DROPS = [
    "DROP TRIGGER IF EXISTS stats_cases_month ON cases",
    "DROP TRIGGER IF EXISTS stats_reports_ins ON reports",
    "DROP TRIGGER IF EXISTS stats_reports_upd ON reports",
    "DROP TRIGGER IF EXISTS stats_cases_ins ON cases",
    "DROP TRIGGER IF EXISTS stats_cases_upd ON cases",
    "DROP TRIGGER IF EXISTS stats_events_ins ON status_events",
    "DROP FUNCTION IF EXISTS stats_events_changed()",
    "DROP FUNCTION IF EXISTS stats_cases_changed()",
    "DROP FUNCTION IF EXISTS stats_case_month()",
    "DROP FUNCTION IF EXISTS stats_reports_changed()",
    "DROP FUNCTION IF EXISTS stats_mark_case(cases)",
    "DROP FUNCTION IF EXISTS stats_mark_report(reports)",
    "DROP FUNCTION IF EXISTS stats_month(timestamptz)",
]


def upgrade():
    op.create_table(
        'stats_rollup',
        sa.Column('month', sa.String(7), primary_key=True),
        sa.Column('district_code', sa.String(16), primary_key=True),
        sa.Column('kind', sa.String(1), primary_key=True),
        sa.Column('dim', sa.String(12), primary_key=True),
        sa.Column('key', sa.String(64), primary_key=True),
        sa.Column('n', sa.Integer, nullable=False),
    )
    op.create_table(
        'stats_dirty',
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column('district_code', sa.String(16), nullable=False),
        sa.Column('month', sa.String(7), nullable=True),
    )
    op.create_index('ix_stats_dirty_month', 'stats_dirty', ['month', 'district_code'])
    op.create_index(
        'ix_reports_district_captured', 'reports', ['district_code', 'captured_at']
    )
    op.create_index(
        'ix_reports_hotspot',
        'reports',
        ['captured_at', 'lat', 'lon', 'violation', 'district_code'],
    )
    op.add_column('cases', sa.Column('stats_month', sa.String(7), nullable=True))
    op.create_index('ix_cases_district_month', 'cases', ['district_code', 'stats_month'])
    op.create_index('ix_cases_first_report', 'cases', ['first_report_id'])
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
        month = "stats_month({0})"
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        month = SQLITE_MONTH
    op.execute(
        f"UPDATE cases SET stats_month = (SELECT {month.format('r.captured_at')} "
        "FROM reports r WHERE r.id = cases.first_report_id)"
    )
    # What is already stored is aggregated on the first read.
    op.execute(
        "INSERT INTO stats_dirty (district_code, month) "
        f"SELECT DISTINCT coalesce(district_code, ''), {month.format('captured_at')} FROM reports"
    )
    op.execute(
        "INSERT INTO stats_dirty (district_code, month) "
        f"SELECT DISTINCT coalesce(c.district_code, ''), {month.format('r.captured_at')} "
        "FROM cases c JOIN reports r ON r.id = c.first_report_id"
    )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for statement in PG_DROPS:
            op.execute(statement)
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_cases_first_report', table_name='cases')
    op.drop_index('ix_cases_district_month', table_name='cases')
    # A plain ALTER (SQLite >= 3.35 has DROP COLUMN): a batch copy of `cases` would trip
    # the foreign keys that point at it.
    op.execute("ALTER TABLE cases DROP COLUMN stats_month")
    op.drop_index('ix_reports_hotspot', table_name='reports')
    op.drop_index('ix_reports_district_captured', table_name='reports')
    op.drop_index('ix_stats_dirty_month', table_name='stats_dirty')
    op.drop_table('stats_dirty')
    op.drop_table('stats_rollup')
