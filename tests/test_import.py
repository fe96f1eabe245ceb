"""`import_path`: canonical CSV files into the store, on SQLite and PostgreSQL (data.md, Import rules)."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from config.app_config import AppConfig
from kpi_engine.importer import ImportFailed, ImportInputError, RowIssue, import_path
from kpi_engine.mapping import canonical_columns
from kpi_engine.models import TABLES
from tests.conftest import dataset

CONFIG = AppConfig()  # Asia/Bangkok, THB
BKK = ZoneInfo("Asia/Bangkok")


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return p


def run(store, folder, **kw):
    return import_path(store, folder, config=CONFIG, **kw)


def dump(store) -> dict[str, list[tuple]]:
    out = {}
    with store.connect() as c:
        for name, model in TABLES.items():
            cols = [col.name for col in model.__table__.columns]
            out[name] = [tuple(r) for r in c.execute(text(f"SELECT {', '.join(cols)} FROM {name} ORDER BY 1, 2, 3"))]
    return out


def rows(store, sql: str) -> list[tuple]:
    with store.connect() as c:
        return [tuple(r) for r in c.execute(text(sql))]


def counts(store) -> dict[str, int]:
    return {t: n for t, rs in dump(store).items() if (n := len(rs))}


ALL_TABLES = {
    "reps.csv": """
        rep_id,name,team,region,email,slack_user_id,hired_on,left_on
        r1,Ann,North,BKK,ann@example.com,U01,2025-01-06,
        r2,Bo,South,CNX,,,2025-02-01,2026-03-31
        """,
    "accounts.csv": """
        account_id,name,segment,region,churned_at
        a1,Acme,smb,BKK,
        a2,Globex,enterprise,CNX,2026-04-01
        """,
    "leads.csv": """
        lead_id,created_at,channel,campaign,owner_rep_id,qualified_at
        l1,2026-04-01T09:00:00,referral,,r1,2026-04-03T10:00:00
        l2,2026-04-02,website,spring,r2,
        """,
    "opportunities.csv": """
        opportunity_id,created_at,status,amount,account_id,owner_rep_id,stage,closed_at,lead_id,product,currency
        o1,2026-04-05,won,1000.50,a1,r1,closed won,2026-05-04T13:05:00,l1,Widget,THB
        o2,2026-04-06,Lost,,a2,r2,closed lost,2026-05-02,,Gadget,
        o3,2026-04-07,open,,a1,r1,proposal,,,,
        """,
    "stage_changes.csv": """
        opportunity_id,stage,entered_at
        o1,discovery,2026-04-05
        o1,proposal,2026-04-20
        o1,closed won,2026-05-04T13:05:00
        """,
    "activities.csv": """
        activity_id,rep_id,type,occurred_at,opportunity_id,account_id
        act1,r1,call,2026-04-06T10:00:00,o1,a1
        act2,r2,Meeting,2026-04-07T11:00:00+07:00,,a2
        """,
    "orders.csv": """
        order_id,account_id,ordered_at,amount,currency
        ord1,a1,2026-05-10,250,
        ord2,a2,2026-05-11T08:00:00Z,99.99,THB
        """,
    "spend.csv": """
        date,channel,category,amount,period
        2026-05-01,social,marketing,3000,month
        2026-05-04,events,sales,700,week
        2026-05-05,social,marketing,100,
        """,
    "forecasts.csv": """
        period,amount,submitted_at,team
        2026-Q2,500000,2026-03-25,
        2026-05,180000,2026-04-28,North
        """,
    "targets.csv": """
        period,metric,value,team,rep_id
        2026-05,revenue,200000,,
        2026-W19,deals_closed,3,North,r1
        """,
    "surveys.csv": """
        response_id,responded_at,score,account_id,rep_id,comment
        s1,2026-05-06,5,a1,r1,"great, fast"
        s2,2026-05-07,3,a2,,
        """,
    "trainings.csv": """
        feedback_id,held_on,rating,rep_id,session
        f1,2026-05-08,4.5,r1,negotiation
        """,
    "content_events.csv": """
        event_id,content_id,occurred_at,action,rep_id
        e1,deck-1,2026-05-08T09:30:00,view,r1
        e2,deck-1,2026-05-08T09:31:00,SHARE,r2
        """,
}


def all_tables(folder: Path) -> Path:
    for name, body in ALL_TABLES.items():
        write(folder, name, body)
    return folder


def test_kinds_name_only_canonical_columns():
    from kpi_engine.importer import KINDS

    assert list(KINDS) == list(TABLES)
    for t in TABLES:
        assert set(KINDS[t]) <= set(canonical_columns(t))


def test_valid_import_of_all_tables_then_reimport_changes_nothing(store, tmp_path):
    folder = all_tables(tmp_path / "data")
    report = run(store, folder)
    assert report.ok and report.written and report.errors == []
    assert report.warnings == []
    assert {t: (c.read, c.inserted, c.updated, c.skipped) for t, c in report.tables.items()} == {
        t.removesuffix(".csv"): (n, n, 0, 0)
        for t, n in {"reps.csv": 2, "accounts.csv": 2, "leads.csv": 2, "opportunities.csv": 3,
                     "stage_changes.csv": 3, "activities.csv": 2, "orders.csv": 2, "spend.csv": 3,
                     "forecasts.csv": 2, "targets.csv": 2, "surveys.csv": 2, "trainings.csv": 1,
                     "content_events.csv": 2}.items()
    }
    before = dump(store)
    assert all(before[t] for t in TABLES)

    again = run(store, folder)
    assert all(c.inserted == 0 and c.updated == 0 and c.unchanged == c.read for c in again.tables.values())
    assert dump(store) == before

    # stored values, normalised
    assert rows(store, "SELECT opportunity_id, status, amount, currency, closed_at FROM opportunities "
                       "ORDER BY opportunity_id") == [
        ("o1", "won", 1000.5, "THB", epoch("2026-05-04T13:05:00+07:00")),
        ("o2", "lost", None, None, epoch("2026-05-02T00:00:00+07:00")),
        ("o3", "open", None, None, None),
    ]
    assert rows(store, "SELECT type FROM activities ORDER BY activity_id") == [("call",), ("meeting",)]
    assert rows(store, "SELECT action FROM content_events ORDER BY event_id") == [("view",), ("share",)]
    assert rows(store, "SELECT comment FROM surveys WHERE response_id = 's1'") == [("great, fast",)]
    assert rows(store, "SELECT hired_on, left_on FROM reps ORDER BY rep_id") == [
        (epoch("2025-01-06T00:00:00+07:00"), None),
        (epoch("2025-02-01T00:00:00+07:00"), epoch("2026-03-31T00:00:00+07:00")),
    ]


def test_changed_row_is_reported_as_updated(store, tmp_path):
    folder = all_tables(tmp_path / "data")
    run(store, folder)
    write(folder, "opportunities.csv", """
        opportunity_id,created_at,status,amount,account_id,owner_rep_id,stage,closed_at,lead_id,product,currency
        o1,2026-04-05,won,1000.50,a1,r1,closed won,2026-05-04T13:05:00,l1,Widget,THB
        o2,2026-04-06,Lost,,a2,r2,closed lost,2026-05-02,,Gadget,
        o3,2026-04-07,won,4200,a1,r1,closed won,2026-05-09,,,
        o4,2026-04-08,open,,a1,r1,discovery,,,,
        """)
    report = run(store, folder / "opportunities.csv")
    c = report.tables["opportunities"]
    assert (c.read, c.inserted, c.updated, c.unchanged) == (4, 1, 1, 2)
    assert rows(store, "SELECT status, amount FROM opportunities WHERE opportunity_id = 'o3'") == [("won", 4200.0)]


def test_upsert_keys_of_composite_tables(store, tmp_path):
    folder = all_tables(tmp_path / "data")
    run(store, folder)
    write(folder, "spend.csv", """
        date,channel,category,amount,period
        2026-05-01,social,marketing,3500,month
        2026-05-01,social,marketing,50,day
        """)
    write(folder, "targets.csv", """
        period,metric,value,team,rep_id
        2026-05,revenue,250000,,
        """)
    report = run(store, folder)
    assert (report.tables["spend"].inserted, report.tables["spend"].updated) == (1, 1)
    assert (report.tables["targets"].inserted, report.tables["targets"].updated) == (0, 1)
    assert rows(store, "SELECT period, amount FROM spend WHERE date = '2026-05-01' ORDER BY period") == [
        ("day", 50.0), ("month", 3500.0)]


def test_derived_spans_of_spend_forecasts_targets(store, tmp_path):
    run(store, all_tables(tmp_path / "data"))
    assert rows(store, "SELECT date, period, start_at, end_at FROM spend ORDER BY date") == [
        ("2026-05-01", "month", epoch("2026-05-01T00:00:00+07:00"), epoch("2026-06-01T00:00:00+07:00")),
        ("2026-05-04", "week", epoch("2026-05-04T00:00:00+07:00"), epoch("2026-05-11T00:00:00+07:00")),
        ("2026-05-05", "day", epoch("2026-05-05T00:00:00+07:00"), epoch("2026-05-06T00:00:00+07:00")),
    ]
    assert rows(store, "SELECT period, team, start_at, end_at FROM forecasts ORDER BY period") == [
        ("2026-05", "North", epoch("2026-05-01T00:00:00+07:00"), epoch("2026-06-01T00:00:00+07:00")),
        ("2026-Q2", "", epoch("2026-04-01T00:00:00+07:00"), epoch("2026-07-01T00:00:00+07:00")),
    ]
    assert rows(store, "SELECT period, metric, team, rep_id, start_at, end_at FROM targets ORDER BY period") == [
        ("2026-05", "revenue", "", "", epoch("2026-05-01T00:00:00+07:00"), epoch("2026-06-01T00:00:00+07:00")),
        ("2026-W19", "deals_closed", "North", "r1",
         epoch("2026-05-04T00:00:00+07:00"), epoch("2026-05-11T00:00:00+07:00")),
    ]


# ---------------------------------------------------------------- invalid rows

OPP_HEADER = "opportunity_id,created_at,status,amount,account_id,owner_rep_id,stage,closed_at,lead_id,product,currency"

INVALID = [
    ("missing required column", "opportunities.csv",
     "opportunity_id,created_at,amount\no1,2026-04-01,5\n",
     "opportunities.csv:1: status: required column is missing from the header"),
    ("empty required value", "leads.csv",
     "lead_id,created_at,channel\nl1,2026-04-01,referral\nl2,2026-04-01,\n",
     "leads.csv:3: channel: is required but empty"),
    ("bad date", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,won,5,,,,2026-13-01,,,\n",
     'opportunities.csv:2: closed_at: "2026-13-01" is not a date (use ISO 8601, e.g. 2026-05-04)'),
    ("bad timestamp", "activities.csv",
     "activity_id,rep_id,type,occurred_at\nx1,r1,call,2026-05-04T25:00:00\n",
     'activities.csv:2: occurred_at: "2026-05-04T25:00:00" is not a date (use ISO 8601, e.g. 2026-05-04)'),
    ("bad number", "orders.csv",
     'order_id,account_id,ordered_at,amount\nord1,a1,2026-05-01,"1,000"\n',
     'orders.csv:2: amount: "1,000" is not a number (use a plain decimal, e.g. 1234.5)'),
    ("status", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,pending,,,,,,,,\n",
     'opportunities.csv:2: status: "pending" is not one of open, won, lost'),
    ("activity type", "activities.csv",
     "activity_id,rep_id,type,occurred_at\nx1,r1,lunch,2026-05-04\n",
     'activities.csv:2: type: "lunch" is not one of call, email, meeting, other'),
    ("spend category", "spend.csv",
     "date,channel,category,amount\n2026-05-01,tv,brand,10\n",
     'spend.csv:2: category: "brand" is not one of marketing, sales'),
    ("spend period", "spend.csv",
     "date,channel,category,amount,period\n2026-05-01,tv,sales,10,quarter\n",
     'spend.csv:2: period: "quarter" is not one of day, week, month'),
    ("spend date with a time", "spend.csv",
     "date,channel,category,amount\n2026-05-01T10:00:00,tv,sales,10\n",
     'spend.csv:2: date: "2026-05-01T10:00:00" is not a date (use ISO 8601, e.g. 2026-05-04)'),
    ("content action", "content_events.csv",
     "event_id,content_id,occurred_at,action\ne1,c1,2026-05-01,like\n",
     'content_events.csv:2: action: "like" is not one of view, click, share'),
    ("won without closed_at", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,won,5,,,,,,,\n",
     "opportunities.csv:2: closed_at: is required when status is won"),
    ("lost without closed_at", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,lost,,,,,,,,\n",
     "opportunities.csv:2: closed_at: is required when status is lost"),
    ("won without amount", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,won,,,,,2026-05-01,,,\n",
     "opportunities.csv:2: amount: is required when status is won"),
    ("closed before created", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,lost,,,,,2026-03-31,,,\n",
     'opportunities.csv:2: closed_at: "2026-03-31" is before created_at (2026-04-01)'),
    ("open with closed_at", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,open,,,,,2026-05-01,,,\n",
     'opportunities.csv:2: closed_at: "2026-05-01" must be empty when status is open'),
    ("survey score", "surveys.csv",
     "response_id,responded_at,score\ns1,2026-05-01,6\n",
     'surveys.csv:2: score: "6" is outside 1–5'),
    ("survey score not whole", "surveys.csv",
     "response_id,responded_at,score\ns1,2026-05-01,4.5\n",
     'surveys.csv:2: score: "4.5" is not a whole number from 1 to 5'),
    ("training rating", "trainings.csv",
     "feedback_id,held_on,rating\nf1,2026-05-01,0\n",
     'trainings.csv:2: rating: "0" is outside 1–5'),
    ("duplicate id", "opportunities.csv",
     f"{OPP_HEADER}\no1,2026-04-01,open,,,,,,,,\no2,2026-04-01,open,,,,,,,,\no1,2026-04-02,open,,,,,,,,\n",
     'opportunities.csv:4: opportunity_id: "o1" duplicates line 2'),
    ("duplicate composite key", "stage_changes.csv",
     "opportunity_id,stage,entered_at\no1,a,2026-05-01\no1,a,2026-05-01T00:00:00+07:00\n",
     'stage_changes.csv:3: opportunity_id+stage+entered_at: "o1 / a / 2026-05-01T00:00:00+07:00" '
     'duplicates line 2'),
    ("foreign currency", "orders.csv",
     "order_id,account_id,ordered_at,amount,currency\nord1,a1,2026-05-01,10,USD\n",
     'orders.csv:2: currency: "USD" is not the base currency THB and no exchange rate is loaded '
     '(kpibot has no exchange-rate table yet; if all your data is in USD, set currency = "USD" in the config)'),
    ("forecast period key", "forecasts.csv",
     "period,amount,submitted_at\n2026-13,5,2026-01-01\n",
     'forecasts.csv:2: period: "2026-13" is not a period key (use 2026, 2026-Q2, 2026-05 or 2026-W19)'),
    ("target metric", "targets.csv",
     "period,metric,value\n2026-05,Revenu,5\n",
     'targets.csv:2: metric: "Revenu" is not a KPI key (did you mean revenue?)'),
    ("multi-line quoted field shifts the line number", "surveys.csv",
     'response_id,responded_at,score,comment\ns1,2026-05-01,5,"line one\nline two\nline three"\ns2,2026-05-01,9,\n',
     'surveys.csv:5: score: "9" is outside 1–5'),
]


@pytest.mark.parametrize(("file", "body", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_row_fails_the_whole_import(store, tmp_path, file, body, expected):
    folder = tmp_path / "data"
    write(folder, "reps.csv", "rep_id,name\nr1,Ann\n")  # valid, in the same import: must not be written either
    (folder / file).write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        run(store, folder)
    report = exc.value.report
    assert [str(e) for e in report.errors] == [expected]
    assert not report.written
    assert all(c.inserted == c.updated == 0 for c in report.tables.values())
    assert counts(store) == {}
    assert expected in str(exc.value)


def test_invalid_rows_leave_existing_data_untouched(store, tmp_path):
    folder = all_tables(tmp_path / "data")
    run(store, folder)
    before = dump(store)
    write(folder, "orders.csv", "order_id,account_id,ordered_at,amount\nord1,a1,2026-05-10,999\nord9,a1,nope,1\n")
    with pytest.raises(ImportFailed):
        run(store, folder)
    assert dump(store) == before


def test_every_bad_row_is_listed_and_the_list_is_capped(store, tmp_path):
    body = "order_id,account_id,ordered_at,amount\n" + "".join(f"o{i},a1,2026-05-01,x{i}\n" for i in range(30))
    write(tmp_path, "orders.csv", body + "o99,a1,bad-date,\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path / "orders.csv")
    report = exc.value.report
    assert report.error_count == 32  # one row has two problems: both are listed
    assert str(report.errors[30]) == 'orders.csv:32: ordered_at: "bad-date" is not a date (use ISO 8601, e.g. 2026-05-04)'
    assert str(report.errors[31]) == "orders.csv:32: amount: is required but empty"
    text_ = report.format_issues(limit=20).splitlines()
    assert text_[0] == 'orders.csv:2: amount: "x0" is not a number (use a plain decimal, e.g. 1234.5)'
    assert text_[20] == "… and 12 more errors"
    # nothing was written: the warning must not say these rows were imported
    assert text_[21:] == ['warning: orders.csv:2: account_id: 31 rows refer to an account not in accounts '
                          '(e.g. "a1"; lines 2, 3, 4, 5, 6, …); not an error (imported once the errors are fixed)']


def test_skip_invalid_writes_the_valid_rows_and_reports_the_rest(store, tmp_path):
    write(tmp_path, "opportunities.csv", f"""
        {OPP_HEADER}
        o1,2026-04-01,won,10,,,,2026-05-01,,,
        o2,2026-04-01,won,,,,,2026-05-01,,,
        o3,2026-04-01,open,,,,,,,,
        o1,2026-04-01,open,,,,,,,,
        """)
    report = run(store, tmp_path / "opportunities.csv", skip_invalid=True)
    c = report.tables["opportunities"]
    assert (c.read, c.inserted, c.skipped) == (4, 2, 2)
    assert [str(e) for e in report.errors] == [
        "opportunities.csv:3: amount: is required when status is won",
        'opportunities.csv:5: opportunity_id: "o1" duplicates line 2',
    ]
    assert report.written
    assert rows(store, "SELECT opportunity_id FROM opportunities ORDER BY 1") == [("o1",), ("o3",)]


def test_empty_file_and_unreadable_text_are_errors(store, tmp_path):
    write(tmp_path, "reps.csv", "")
    (tmp_path / "accounts.csv").write_bytes("account_id,name\na1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert [str(e) for e in exc.value.report.errors] == [
        "reps.csv:1: the file is empty (a header line is needed)",
        'accounts.csv:2: is not UTF-8 text (save the file as CSV UTF-8; in Excel: File > Save As > "CSV UTF-8 '
        '(Comma delimited)")',
    ]


@pytest.mark.parametrize("sep, name", [(";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")])
def test_a_file_separated_by_something_else_than_commas_is_one_clear_error(store, tmp_path, sep, name):
    write(tmp_path, "reps.csv", "rep_id\nr1\n")
    write(tmp_path, "leads.csv", f"lead_id{sep}created_at{sep}channel\nl1{sep}2026-05-01{sep}web\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert [str(e) for e in exc.value.report.errors] == [
        f"leads.csv:1: the header is separated by {name}, not commas: kpibot reads comma-separated CSV "
        '(in Excel: File > Save As > "CSV UTF-8 (Comma delimited)")']
    assert exc.value.report.warnings == []
    assert counts(store) == {}


@pytest.mark.parametrize("head, what", [
    (b"PK\x03\x04\x14\x00\x06\x00", "is an Excel workbook (.xlsx) or another zip file, not CSV text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "is an Excel 97-2003 workbook (.xls), not CSV text"),
    ("lead_id,created_at,channel\n".encode("utf-16"), "is UTF-16 text"),
])
def test_a_workbook_or_utf16_file_saved_as_csv_is_named_for_what_it_is(store, tmp_path, head, what):
    write(tmp_path, "reps.csv", "rep_id\nr1\n")
    (tmp_path / "leads.csv").write_bytes(head + b"lead_id,created_at,channel\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    (err,) = [str(e) for e in exc.value.report.errors]
    assert err.startswith(f"leads.csv:1: {what}") and "CSV UTF-8 (Comma delimited)" in err
    assert counts(store) == {}


def test_thai_windows_874_text_is_told_apart_from_latin_text(store, tmp_path):
    (tmp_path / "reps.csv").write_bytes("rep_id,name\nr1,สมชาย ใจดี\n".encode("cp874"))
    (tmp_path / "accounts.csv").write_bytes("account_id,name\na1,Hélène Crème\n".encode("latin-1"))
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    thai, latin = [str(e) for e in exc.value.report.errors]
    assert thai.startswith("reps.csv:2: is not UTF-8 text: it reads as Thai in Windows-874 (TIS-620)")
    assert latin.startswith("accounts.csv:2: is not UTF-8 text (save the file as CSV UTF-8")
    assert counts(store) == {}


def test_a_buddhist_era_year_is_named_with_its_common_era_year(store, tmp_path):
    write(tmp_path, "leads.csv", "lead_id,created_at,channel\nl1,2569-05-01,web\nl2,2301-05-01,web\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert [str(e) for e in exc.value.report.errors] == [
        'leads.csv:2: created_at: "2569-05-01" is outside the years 1900–2200 kpibot reads: 2569 looks like a '
        "Buddhist-era year (พ.ศ. 2569 = 2026); write Common-Era years (2026)",
        'leads.csv:3: created_at: "2301-05-01" is outside the years 1900–2200 kpibot reads',
    ]


def test_a_file_named_close_to_a_table_gets_the_name_it_needs(store, tmp_path):
    write(tmp_path, "reps (1).csv", "rep_id\nr1\n")
    write(tmp_path, "Leads_export_2026-11-01.csv", "lead_id\n")
    write(tmp_path, "stage_change.csv", "x\n")
    write(tmp_path, "products.csv", "x\n")
    with pytest.raises(ImportInputError) as exc:
        run(store, tmp_path)
    assert str(exc.value).endswith(
        "found Leads_export_2026-11-01.csv (did you mean leads.csv?), products.csv, reps (1).csv (did you mean "
        "reps.csv?), stage_change.csv (did you mean stage_changes.csv?)")
    write(tmp_path, "accounts.csv", "account_id\na1\n")
    report = run(store, tmp_path)
    assert sorted(str(w) for w in report.warnings)[:2] == [
        "Leads_export_2026-11-01.csv: ignored: the name is not a canonical table (did you mean leads.csv?)",
        "products.csv: ignored: the name is not a canonical table (tables: reps, accounts, leads, opportunities, "
        "stage_changes, activities, orders, spend, forecasts, targets, surveys, trainings, content_events)",
    ]


def test_a_shipped_mappings_export_without_the_mapping_says_which_to_use(store):
    maven = dataset("maven_crm_sales_opportunities")
    with pytest.raises(ImportInputError, match=f"the export the shipped mapping 'maven' reads; import it with: "
                                               f"kpibot import {maven} --mapping maven"):
        run(store, maven)
    cdnow = dataset("cdnow_transactions") / "cdnow_transactions.csv"
    with pytest.raises(ImportInputError, match="^cdnow_transactions.csv is the export the shipped mapping 'cdnow'"):
        run(store, cdnow)
    assert counts(store) == {}


def test_excel_style_file_bom_crlf_header_case_and_empty_rows(store, tmp_path):
    body = "\ufeffLead_ID , Created_At,Channel\r\nl1,2026-05-01,web\r\n,,\r\n\r\nl2,2026-05-02,event\r\n"
    (tmp_path / "leads.csv").write_bytes(body.encode("utf-8"))
    report = run(store, tmp_path)
    assert report.ok and report.warnings == []
    assert (report.tables["leads"].read, report.tables["leads"].inserted) == (2, 2)


def test_skip_invalid_skips_a_file_whose_header_lacks_a_required_column(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id\nr1\n")
    write(tmp_path, "leads.csv", "lead_id,channel\nl1,web\nl2,web\n")
    report = run(store, tmp_path, skip_invalid=True)
    assert [str(e) for e in report.errors] == ["leads.csv:1: created_at: required column is missing from the header"]
    assert (report.tables["leads"].read, report.tables["leads"].skipped) == (2, 2)
    assert counts(store) == {"reps": 1}


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(("given", "instant"), [
    ("2026-05-04", "2026-05-04T00:00:00+07:00"),
    ("2026-05-04T13:05:00", "2026-05-04T13:05:00+07:00"),
    ("2026-05-04 13:05:00", "2026-05-04T13:05:00+07:00"),
    ("2026-05-04T13:05:00+07:00", "2026-05-04T13:05:00+07:00"),
    ("2026-05-04T13:05:00+02:00", "2026-05-04T11:05:00+00:00"),
    ("2026-05-04T13:05:00Z", "2026-05-04T20:05:00+07:00"),
    ("2026-05-04T13:05:00.750", "2026-05-04T13:05:00+07:00"),
    ("2026-04-30T20:00:00Z", "2026-05-01T03:00:00+07:00"),
])
def test_timestamps_map_to_the_right_epoch(store, tmp_path, given, instant):
    write(tmp_path, "leads.csv", f"lead_id,created_at,channel\nl1,{given},web\n")
    run(store, tmp_path)
    assert rows(store, "SELECT created_at FROM leads") == [(epoch(instant),)]


def test_utc_evening_lands_in_may_in_bangkok(store, tmp_path):
    write(tmp_path, "orders.csv", "order_id,account_id,ordered_at,amount\no1,a1,2026-04-30T20:00:00Z,5\n")
    run(store, tmp_path)
    (ts,) = rows(store, "SELECT ordered_at FROM orders")[0]
    assert ts == 1777579200
    assert datetime.fromtimestamp(ts, BKK).strftime("%Y-%m") == "2026-05"


def test_naive_timestamps_follow_the_configured_timezone(store, tmp_path):
    write(tmp_path, "leads.csv", "lead_id,created_at,channel\nl1,2026-07-01T12:00:00,web\nl2,2026-01-15,web\n")
    import_path(store, tmp_path, config=AppConfig(timezone="Europe/Berlin"))
    assert rows(store, "SELECT created_at FROM leads ORDER BY lead_id") == [
        (epoch("2026-07-01T12:00:00+02:00"),), (epoch("2026-01-15T00:00:00+01:00"),)]


# ---------------------------------------------------------------- warnings


def test_extra_columns_and_unknown_references_warn_once_per_kind(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name\nr1,Ann\n")
    run(store, tmp_path)
    (tmp_path / "reps.csv").unlink()
    write(tmp_path, "opportunities.csv", f"""
        {OPP_HEADER},notes
        o1,2026-04-01,open,,a1,r1,,,,,,hello
        o2,2026-04-01,open,,,bob,,,,,,
        o3,2026-04-01,open,,,carol,,,,,,
        o4,2026-04-01,open,,,bob,,,,,,
        """)
    write(tmp_path, "accounts.csv", "account_id,name\na1,Acme\n")  # same import: a1 is known
    report = run(store, tmp_path)
    assert report.ok and report.tables["opportunities"].inserted == 4
    assert [str(w) for w in report.warnings] == [
        "opportunities.csv:1: extra column(s) ignored: notes",
        'opportunities.csv:3: owner_rep_id: 3 rows refer to a rep not in reps (e.g. "bob"; lines 3, 4, 5); '
        "imported anyway",
    ]
    assert report.warnings[1].count == 3
    assert "warning: opportunities.csv:1: extra column(s) ignored: notes" in report.format_issues()


def test_rows_with_too_few_or_too_many_fields_fail_and_write_nothing(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name\nr1,Ann\n")
    write(tmp_path, "leads.csv", "lead_id,created_at,channel,campaign\nl1,2026-05-01,web\nl2,2026-05-01,web,x,y\n"
                                 "l3,2026-05-01,web,z\n")
    for skip in (False, True):
        with pytest.raises(ImportFailed) as exc:
            run(store, tmp_path, skip_invalid=skip)
        assert [str(e) for e in exc.value.report.errors] == [
            "leads.csv:2: has 3 fields where the header has 4: every row needs all 4 (an empty value is still "
            "a field: ,,)",
            "leads.csv:3: has 5 fields where the header has 4: a value holding a comma must be in double quotes",
        ]
        assert "never imported in part" in str(exc.value)
        assert counts(store) == {}  # not even reps.csv, which was fine


def test_extra_empty_fields_only_warn(store, tmp_path):
    write(tmp_path, "leads.csv", "lead_id,created_at,channel,campaign\nl1,2026-05-01,web,,,\nl2,2026-05-01,web,x\n")
    report = run(store, tmp_path)
    assert [str(w) for w in report.warnings] == [
        "leads.csv:2: 1 row has more fields than the header, all empty (lines 2); ignored"]
    assert rows(store, "SELECT lead_id, campaign FROM leads ORDER BY 1") == [("l1", None), ("l2", "x")]


def _reps(n: int) -> list[str]:
    return ["rep_id,name,team"] + [f"r{i},Rep {i},team {i % 4}" for i in range(1, n + 1)]


@pytest.mark.parametrize("skip", [False, True])
def test_a_quote_left_open_fails_the_import_at_its_line(store, tmp_path, skip):
    lines = _reps(1000)
    lines[3] = 'r3,"Rep 3,team 3'  # line 4: the quote is never closed
    (tmp_path / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write(tmp_path, "accounts.csv", "account_id,name\na1,Acme\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=skip)
    report = exc.value.report
    assert [str(e) for e in report.errors] == [
        "reps.csv:4: a quote opened in this row is never closed: the file ends inside it (line 1001), so the "
        "rows after it cannot be told apart (a quote inside a quoted value is written \"\")"]
    assert report.structural and not report.written
    assert counts(store) == {}
    # every physical line is accounted for: 1 header, 2 rows read, the rest not read
    assert report.files["reps.csv"].format("reps.csv") == (
        "reps.csv: 1,001 lines: 1 header, 2 rows, 998 from line 4 on not read (see the error)")


def test_a_quote_closed_rows_later_fails_even_when_the_field_count_matches(store, tmp_path):
    lines = _reps(100)
    lines[3] = 'r3,"Rep 3,team 3'
    lines[8] = 'r8,"Rep 8,team 0'  # the stray quote on line 9 "closes" the one on line 4
    (tmp_path / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=True)
    assert [str(e) for e in exc.value.report.errors] == [
        "reps.csv:4: a quote opened on line 4 closes on line 9, and is followed by text (a quote inside a "
        "quoted value is written \"\"); nothing after it was read"]
    assert counts(store) == {}


def test_a_row_spanning_an_implausible_number_of_lines_fails(store, tmp_path):
    from kpi_engine.importer import MAX_ROW_LINES

    lines = _reps(200)
    lines[3] = 'r3,"Rep 3,team 3'
    lines[3 + MAX_ROW_LINES] = 'r,x,y",team'  # closed, well formed, with the header's field count
    (tmp_path / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=True)
    assert [str(e) for e in exc.value.report.errors] == [
        f"reps.csv:4: one row runs from line 4 to line {4 + MAX_ROW_LINES} ({MAX_ROW_LINES + 1} lines): a quote "
        "opened here is probably never closed, swallowing the rows after it (a quote inside a quoted value is "
        "written \"\")"]
    assert counts(store) == {}


def test_a_quoted_value_followed_by_text_fails(store, tmp_path):
    write(tmp_path, "reps.csv", 'rep_id,name\nr1,"Ann" Lee\nr2,Bo\n')
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=True)
    assert [str(e) for e in exc.value.report.errors] == [
        "reps.csv:2: a quoted value is followed by text before the next comma (a quote inside a quoted value "
        "is written \"\"); nothing after it was read"]


def test_every_physical_line_is_accounted_for(store, tmp_path):
    body = ('rep_id,name,team\n'
            'r1,"Ann\nLee",north\n'  # a real multi-line value: two lines, one row
            '\n'
            'r2,Bo,south\n'
            ',,\n'
            'r3,"Cy\n\nDee",west')  # no newline at the end
    (tmp_path / "reps.csv").write_text(body, encoding="utf-8")
    report = run(store, tmp_path)
    assert report.tables["reps"].read == report.tables["reps"].inserted == 3
    lines = report.files["reps.csv"]
    assert lines.lines == 9 == lines.header + lines.rows + lines.blank + lines.inside
    assert "reps.csv: 9 lines: 1 header, 3 rows, 2 blank, 3 more inside the quoted values of 2 multi-line rows" \
        in report.format_summary()
    assert [str(w) for w in report.warnings] == [
        "reps.csv:2: 2 rows have a quoted value with line breaks (starting on lines 2, 7); read as one row each"]
    assert rows(store, "SELECT name FROM reps ORDER BY 1") == [("Ann\nLee",), ("Bo",), ("Cy\n\nDee",)]


def test_open_opportunity_without_amount_is_fine(store, tmp_path):
    write(tmp_path, "opportunities.csv", f"{OPP_HEADER}\no1,2026-04-01,open,,,,,,,,\n")
    report = run(store, tmp_path)
    assert report.ok and report.warnings == []


def test_other_csv_files_are_ignored_with_a_warning(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id\nr1\n")
    write(tmp_path, "products.csv", "product\nx\n")
    report = run(store, tmp_path)
    assert [w.file for w in report.warnings] == ["products.csv"]
    assert str(report.warnings[0]).startswith("products.csv: ignored: the name is not a canonical table")


def test_unusable_paths(store, tmp_path):
    with pytest.raises(ImportInputError, match="does not exist"):
        run(store, tmp_path / "nope")
    write(tmp_path, "deals.csv", "x\n1\n")
    with pytest.raises(ImportInputError, match="must be named after its table"):
        run(store, tmp_path / "deals.csv")
    with pytest.raises(ImportInputError, match="nothing to import"):
        run(store, tmp_path)


# ---------------------------------------------------------------- stage changes


def test_stage_exits_are_set_including_a_reentered_stage(store, tmp_path):
    write(tmp_path, "stage_changes.csv", """
        opportunity_id,stage,entered_at
        o1,A,2026-05-01
        o1,B,2026-05-03
        o1,A,2026-05-06
        o2,A,2026-05-02
        """)
    run(store, tmp_path, batch_size=2)
    assert rows(store, "SELECT opportunity_id, stage, entered_at, exited_at FROM stage_changes "
                       "ORDER BY opportunity_id, entered_at") == [
        ("o1", "A", epoch("2026-05-01T00:00:00+07:00"), epoch("2026-05-03T00:00:00+07:00")),
        ("o1", "B", epoch("2026-05-03T00:00:00+07:00"), epoch("2026-05-06T00:00:00+07:00")),
        ("o1", "A", epoch("2026-05-06T00:00:00+07:00"), None),
        ("o2", "A", epoch("2026-05-02T00:00:00+07:00"), None),
    ]
    # a later file adds the next stage: the previous last one gets its exit
    write(tmp_path, "stage_changes.csv", "opportunity_id,stage,entered_at\no1,C,2026-05-09\n")
    run(store, tmp_path)
    assert rows(store, "SELECT exited_at FROM stage_changes WHERE opportunity_id = 'o1' ORDER BY entered_at") == [
        (epoch("2026-05-03T00:00:00+07:00"),), (epoch("2026-05-06T00:00:00+07:00"),),
        (epoch("2026-05-09T00:00:00+07:00"),), (None,)]


# ---------------------------------------------------------------- batches and progress


def test_batches_and_progress(store, tmp_path):
    body = "order_id,account_id,ordered_at,amount\n" + "".join(f"o{i},a1,2026-05-01,{i}\n" for i in range(25))
    p = write(tmp_path, "orders.csv", body)
    seen = []
    report = run(store, tmp_path, batch_size=10, progress=lambda *a: seen.append(a))
    assert report.tables["orders"].inserted == 25
    assert [s[1] for s in seen] == [10, 20, 25]
    assert all(s[0] == "orders" and s[3] == p.stat().st_size for s in seen)
    assert seen[-1][2] == p.stat().st_size
    # half the rows change, across batches
    p.write_text(body.replace(",2026-05-01,1", ",2026-05-02,1"), encoding="utf-8")
    report = run(store, tmp_path, batch_size=10)
    c = report.tables["orders"]
    assert (c.inserted, c.updated, c.unchanged) == (0, 11, 14)


def test_row_issue_rendering():
    assert str(RowIssue("a.csv", 3, "x", "is wrong", "v")) == 'a.csv:3: x: "v" is wrong'
    assert str(RowIssue("a.csv", None, "", "ignored")) == "a.csv: ignored"


# ---------------------------------------------------------------- bulk loads into empty tables


def _indexes(store) -> dict[str, list]:
    from sqlalchemy import inspect

    insp = inspect(store)
    names = [*TABLES, "purchases", "hourly_counts"]
    return {t: sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(t)) for t in names}


def _derived_rows(c) -> dict[str, list[tuple]]:
    from kpi_engine.models import HourlyCount, Purchase, StageChange

    out = {}
    for model in (Purchase, HourlyCount, StageChange):
        t = model.__table__
        cols = ", ".join(col.name for col in t.columns)
        out[t.name] = [tuple(r) for r in c.execute(text(f"SELECT {cols} FROM {t.name} ORDER BY 1, 2, 3"))]
    return out


def _derived(store) -> dict[str, list[tuple]]:
    with store.connect() as c:
        return _derived_rows(c)


def _rebuilt(store) -> dict[str, list[tuple]]:
    """The derived data rebuilt from scratch (in a transaction rolled back afterwards)."""
    from kpi_engine import derive

    with store.connect() as c:
        trans = c.begin()
        derive.refresh_stage_exits(c, None)
        for sql in (*derive.PURCHASES_REBUILD, *derive.HOURLY_REBUILD):
            c.execute(text(sql))
        out = _derived_rows(c)
        trans.rollback()
    return out


def test_bulk_load_into_empty_tables_keeps_indexes_and_derived_data(store, tmp_path):
    before = _indexes(store)
    for name, body in ALL_TABLES.items():
        write(tmp_path, name, body)
    run(store, tmp_path, batch_size=2)
    assert _indexes(store) == before
    derived = _derived(store)
    assert derived["purchases"] and derived["hourly_counts"]
    assert derived == _rebuilt(store)
    # a second file into the now filled tables: moved and no-longer-won purchases, new stage changes
    opps = ALL_TABLES["opportunities.csv"]
    write(tmp_path, "opportunities.csv", opps.replace(",won,", ",lost,", 1))
    run(store, tmp_path, batch_size=2)
    assert _indexes(store) == before
    assert _derived(store) == _rebuilt(store)


@pytest.mark.parametrize("bad_file", ["opportunities.csv", "activities.csv"])
def test_failed_import_into_an_empty_store_keeps_the_indexes(store, tmp_path, bad_file):
    before = _indexes(store)
    assert before["opportunities"] and before["activities"]
    for name, body in ALL_TABLES.items():
        write(tmp_path, name, body)
    p = tmp_path / bad_file
    bad = {"opportunities.csv": "oX,2026-05-01,maybe", "activities.csv": "aX,r1,call,not a date"}[bad_file]
    p.write_text(p.read_text(encoding="utf-8") + bad + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed):
        run(store, tmp_path, batch_size=1)
    assert _indexes(store) == before
    assert counts(store) == {}


def test_seen_keys_find_repeats_across_chunks_and_ignore_hash_collisions(monkeypatch):
    from kpi_engine.importer import _SeenKeys

    monkeypatch.setattr(_SeenKeys, "_CHUNK", 3)
    seen = _SeenKeys()
    assert hash(-1) == hash(-2)  # CPython: a genuine 64-bit hash collision
    keys = [-1, "a", ("o1", "A", 5), "b", "c", "d", "e", "f", "g", "h", "i"]
    for line, k in enumerate(keys, 2):
        assert seen.first(k, line) == line
    assert seen.moved >= 9 and len(seen.runs) >= 1
    assert seen.first(-2, 100) == 100  # same hash as -1, another key
    assert seen.first(-1, 101) == 2
    assert seen.first(("o1", "A", 5), 102) == 4
    assert seen.first(("o1", "A", 5), 103) == 4
    assert seen.first("i", 104) == 12
    assert seen.first("j", 105) == 105
    for line in range(200, 260):
        seen.first(f"x{line}", line)
    assert [seen.first(k, 999) for k in ("a", "h", "x201", "x259", -2)] == [3, 11, 201, 259, 100]
    assert seen.first("new", 1000) == 1000


def test_duplicate_ids_far_apart_in_a_big_file(store, tmp_path, monkeypatch):
    from kpi_engine.importer import _SeenKeys

    monkeypatch.setattr(_SeenKeys, "_CHUNK", 1000)  # most keys are moved out of the exact dict
    body = "order_id,account_id,ordered_at,amount\n" + "".join(f"o{i},a1,2026-05-01,{i}\n" for i in range(9000))
    write(tmp_path, "orders.csv", body + "o17,a1,2026-05-01,1\no8999,a1,2026-05-01,1\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert [str(e) for e in exc.value.report.errors] == [
        'orders.csv:9002: order_id: "o17" duplicates line 19',
        'orders.csv:9003: order_id: "o8999" duplicates line 9001']


def test_sqlite_settings_are_restored_after_an_import(store, tmp_path):
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite settings")

    def settings():
        with store.connect() as c:
            return c.exec_driver_sql("PRAGMA temp_store").scalar(), c.exec_driver_sql("PRAGMA cache_size").scalar()

    before = settings()
    for name, body in ALL_TABLES.items():
        write(tmp_path, name, body)
    run(store, tmp_path, batch_size=2)
    assert settings() == before
    write(tmp_path, "leads.csv", "lead_id,created_at,channel\nl9,not a date,web\n")
    with pytest.raises(ImportFailed):
        run(store, tmp_path)
    assert settings() == before
