"""Mapping files: the shipped Maven CRM and CDNOW mappings over the real datasets, checked against
plain-Python sums of the raw CSVs, and the mapping format's rules and error messages."""

from __future__ import annotations

import csv
import textwrap
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from config.app_config import AppConfig
from kpi_engine.importer import ImportFailed, import_path
from kpi_engine.mapping import MappingError, load_mapping, resolve_mapping
from tests.conftest import dataset

CONFIG = AppConfig()


def one(store, sql: str):
    with store.connect() as c:
        return c.execute(text(sql)).one()


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------- the shipped mappings on the datasets


def test_maven_crm_through_the_shipped_mapping(store):
    folder = dataset("maven_crm_sales_opportunities")
    pipeline = read_csv(folder / "sales_pipeline.csv")
    with_engage = [r for r in pipeline if r["engage_date"]]
    stages = Counter(r["deal_stage"] for r in with_engage)
    won_value = sum(float(r["close_value"]) for r in pipeline if r["deal_stage"] == "Won")
    assert won_value == 10_005_534
    prospecting_without_date = sum(1 for r in pipeline if not r["engage_date"])
    assert prospecting_without_date == 500

    report = import_path(store, folder, config=CONFIG, mapping=resolve_mapping("maven"))

    assert report.ok and report.written
    assert one(store, "SELECT count(*) FROM reps")[0] == len(read_csv(folder / "sales_teams.csv")) == 35
    assert one(store, "SELECT count(*) FROM accounts")[0] == len(read_csv(folder / "accounts.csv")) == 85
    for status, stage_names in (("won", ["Won"]), ("lost", ["Lost"]), ("open", ["Engaging", "Prospecting"])):
        n = one(store, f"SELECT count(*) FROM opportunities WHERE status = '{status}'")[0]
        assert n == sum(stages[s] for s in stage_names), status
    assert one(store, "SELECT sum(amount) FROM opportunities WHERE status = 'won'")[0] == won_value
    (skipped,) = [w for w in report.warnings if w.column == "engage_date"]
    assert skipped.count == 500 and "500 rows skipped because engage_date is empty" in str(skipped)
    assert report.tables["opportunities"].dropped == 500
    # the mapping's value maps and derived ids
    assert one(store, "SELECT count(*) FROM accounts WHERE segment = 'technolgy'")[0] == 0
    assert one(store, "SELECT count(*) FROM accounts WHERE segment = 'technology'")[0] == 12
    assert one(store, "SELECT count(*) FROM opportunities WHERE product = 'GTXPro'")[0] == 0
    assert one(store, "SELECT rep_id, team, region FROM reps WHERE name = 'Moses Frase'") == (
        "moses-frase", "Dustin Brinkmann", "Central")
    assert one(store, "SELECT count(*) FROM opportunities o LEFT JOIN reps r ON r.rep_id = o.owner_rep_id "
                      "WHERE r.rep_id IS NULL")[0] == 0
    first = pipeline[0]
    row = one(store, f"SELECT created_at, closed_at, amount, currency FROM opportunities "
                     f"WHERE opportunity_id = '{first['opportunity_id']}'")
    bkk = CONFIG.tz
    assert row == (
        int(datetime.fromisoformat(first["engage_date"]).replace(tzinfo=bkk).timestamp()),
        int(datetime.fromisoformat(first["close_date"]).replace(tzinfo=bkk).timestamp()),
        float(first["close_value"]),
        None,
    )

    again = import_path(store, folder, config=CONFIG, mapping=resolve_mapping("maven"))
    assert all(c.inserted == 0 and c.updated == 0 for c in again.tables.values())
    assert again.tables["opportunities"].unchanged == 8300


def test_cdnow_through_the_shipped_mapping(store):
    folder = dataset("cdnow_transactions")
    raw = read_csv(folder / "cdnow_transactions.csv")
    assert len(raw) == 69_659
    total = round(sum(float(r["dollar_value"]) for r in raw), 2)
    assert total == 2_500_315.63
    customers = {r["customer_id"] for r in raw}
    assert len(customers) == 23_570

    report = import_path(store, folder, config=CONFIG, mapping="cdnow")

    assert report.ok
    # one file feeding two tables: its lines are accounted for once
    assert report.format_summary().endswith("cdnow_transactions.csv: 69,660 lines: 1 header, 69,659 rows")
    n, amount, first, last = one(store, "SELECT count(*), sum(amount), min(ordered_at), max(ordered_at) FROM orders")
    assert n == 69_659 and round(amount, 2) == total
    bkk = CONFIG.tz
    assert datetime.fromtimestamp(first, bkk).isoformat() == "1997-01-01T00:00:00+07:00"
    assert datetime.fromtimestamp(last, bkk).isoformat() == "1998-06-30T00:00:00+07:00"
    assert one(store, "SELECT count(*) FROM accounts")[0] == len(customers)
    assert one(store, "SELECT count(DISTINCT account_id) FROM orders")[0] == len(customers)
    assert one(store, "SELECT order_id, account_id, amount FROM orders WHERE order_id = '00001-19970101-2'") == (
        "00001-19970101-2", "00001", 11.77)
    assert [w for w in report.warnings] == []

    again = import_path(store, folder, config=CONFIG, mapping="cdnow")
    assert all(c.inserted == 0 and c.updated == 0 for c in again.tables.values())
    assert again.tables["orders"].unchanged == 69_659


def test_resolve_mapping_names():
    assert resolve_mapping("maven").name == "maven_crm.toml"
    assert resolve_mapping("cdnow").name == "cdnow.toml"
    for name in ("maven", "cdnow"):
        assert load_mapping(resolve_mapping(name)).tables
    with pytest.raises(MappingError, match="mapping 'nope' not found"):
        resolve_mapping("nope")


# ---------------------------------------------------------------- the format, on small files


def test_rename_map_slug_template_format_const_distinct(store, tmp_path):
    folder = tmp_path / "export"
    write(folder / "sales.csv", """
        Deal,Agent,Stage,Opened,Closed,Value,Customer
        D1,Ann Lee,Closed Won,04/05/2026,20260510,100,C1
        D2,Bo  Chan,Closed Lost,05/05/2026,20260511,,C2
        D3,Ann Lee,Negotiation,06/05/2026,,,C1
        """)
    mapping = write(tmp_path / "m.toml", """
        [mapping]
        name = "test export"
        [[table]]
        target = "accounts"
        source = "sales.csv"
        distinct = true
        [table.columns]
        account_id = "Customer"
        segment = { const = "smb" }
        [[table]]
        target = "opportunities"
        source = "sales.csv"
        [table.columns]
        opportunity_id = { template = "{Deal}-{_line}" }
        owner_rep_id = { from = "Agent", slug = true }
        status = { from = "Stage", map = { "Closed Won" = "won", "Closed Lost" = "lost" }, strict = false }
        stage = "Stage"
        created_at = { from = "Opened", format = "%d/%m/%Y" }
        closed_at = { from = "Closed", format = "yyyymmdd" }
        amount = "Value"
        account_id = "Customer"
        """)
    # "Negotiation" passes through the map unchanged and is not a status: that row is invalid
    with pytest.raises(ImportFailed) as exc:
        import_path(store, folder, config=CONFIG, mapping=mapping)
    assert [str(e) for e in exc.value.report.errors] == [
        'sales.csv:4: Stage: "Negotiation" is not one of open, won, lost']

    write(mapping, mapping.read_text().replace('"Closed Lost" = "lost" }', '"Closed Lost" = "lost", Negotiation = "open" }'))
    report = import_path(store, folder, config=CONFIG, mapping=mapping)
    assert report.ok
    assert report.tables["accounts"].inserted == 2 and report.tables["accounts"].dropped == 1
    with store.connect() as c:
        got = [tuple(r) for r in c.execute(text(
            "SELECT opportunity_id, owner_rep_id, status, stage, created_at, closed_at, amount "
            "FROM opportunities ORDER BY opportunity_id"))]
        segments = [tuple(r) for r in c.execute(text("SELECT account_id, segment FROM accounts ORDER BY 1"))]
    bkk = CONFIG.tz

    def ts(d):
        return int(datetime.fromisoformat(d).replace(tzinfo=bkk).timestamp())

    assert got == [
        ("D1-2", "ann-lee", "won", "Closed Won", ts("2026-05-04"), ts("2026-05-10"), 100.0),
        ("D2-3", "bo-chan", "lost", "Closed Lost", ts("2026-05-05"), ts("2026-05-11"), None),
        ("D3-4", "ann-lee", "open", "Negotiation", ts("2026-05-06"), None, None),
    ]
    assert segments == [("C1", "smb"), ("C2", "smb")]


def test_data_errors_name_the_source_file_line_and_column(store, tmp_path):
    folder = tmp_path / "export"
    write(folder / "tx.csv", """
        cust,day,value,kind
        1,19970101,5.5,sale
        2,19971301,7,sale
        3,19970102,lots,sale
        4,19970103,1,refund
        """)
    mapping = write(tmp_path / "m.toml", """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = { template = "{cust}-{day}" }
        account_id = "cust"
        ordered_at = { from = "day", format = "yyyymmdd" }
        amount = "value"
        currency = { from = "kind", map = { sale = "" }, strict = true }
        """)
    with pytest.raises(ImportFailed) as exc:
        import_path(store, folder, config=CONFIG, mapping=mapping)
    assert [str(e) for e in exc.value.report.errors] == [
        'tx.csv:3: day: "19971301" is not a date in the format yyyymmdd (e.g. 19970101)',
        'tx.csv:4: value: "lots" is not a number (use a plain decimal, e.g. 1234.5)',
        'tx.csv:5: kind: "refund" is not one of the mapped values (sale)',
    ]
    with store.connect() as c:
        assert c.execute(text("SELECT count(*) FROM orders")).scalar() == 0


def test_canonical_files_beside_a_mapped_export_are_imported_too(store, tmp_path):
    folder = tmp_path / "export"
    write(folder / "tx.csv", "cust,day,value\n1,19970101,5\n")
    write(folder / "targets.csv", "period,metric,value\n1997-01,aov,40\n")
    write(folder / "orders.csv", "order_id,account_id,ordered_at,amount\nx,1,1997-01-01,1\n")  # filled by the mapping
    mapping = write(tmp_path / "m.toml", """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = { template = "{cust}-{day}" }
        account_id = "cust"
        ordered_at = { from = "day", format = "yyyymmdd" }
        amount = "value"
        """)
    report = import_path(store, folder, config=CONFIG, mapping=mapping)
    assert report.tables["targets"].inserted == 1 and report.tables["orders"].inserted == 1
    assert [str(w) for w in report.warnings][0].startswith("orders.csv: ignored: its table is filled by the mapping m.toml")


def mapping_error(tmp_path, body: str, store=None) -> str:
    folder = tmp_path / "export"
    write(folder / "tx.csv", "cust,day,value\n1,19970101,5\n")
    m = write(tmp_path / "bad.toml", body)
    with pytest.raises(MappingError) as exc:
        if store is None:
            load_mapping(m)
        else:
            import_path(store, folder, config=CONFIG, mapping=m)
    return str(exc.value)


def test_mapping_file_errors_are_clear(tmp_path):
    assert mapping_error(tmp_path, "[[table]\ntarget = 1").startswith("bad.toml: not valid TOML:")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "order"
        source = "tx.csv"
        [table.columns]
        order_id = "cust"
        """).startswith("bad.toml: [[table]] 1 (order): target 'order' is not a canonical table (did you mean orders?)")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = { from = "cust", fromat = "x" }
        """) == ("bad.toml: [[table]] 1 (orders): columns.order_id: unknown key(s) fromat "
                 "(known: const, format, from, map, slug, strict, template)")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_no = "cust"
        """).startswith("bad.toml: [[table]] 1 (orders): columns.order_no: orders has no column 'order_no'")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = { from = "cust", const = "x" }
        """) == "bad.toml: [[table]] 1 (orders): columns.order_id: needs exactly one of from, template, const (has from, const)"


def test_mapping_errors_found_against_the_files(store, tmp_path):
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = "cust"
        account_id = "customer"
        ordered_at = "day"
        amount = "value"
        """, store) == ("bad.toml: [[table]] 1 (orders): columns.account_id reads source column 'customer', which "
                        "tx.csv does not have; did you mean cust? (its columns: cust, day, value)")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = { template = "{cust}-{dya}" }
        account_id = "cust"
        ordered_at = "day"
        amount = "value"
        """, store).startswith("bad.toml: [[table]] 1 (orders): columns.order_id reads source column 'dya', which "
                               "tx.csv does not have; did you mean day?")
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "tx.csv"
        [table.columns]
        order_id = "cust"
        amount = "value"
        """, store) == "bad.toml: [[table]] 1 (orders): required column(s) account_id, ordered_at of orders are not mapped"
    assert mapping_error(tmp_path, """
        [[table]]
        target = "orders"
        source = "sales.csv"
        [table.columns]
        order_id = "cust"
        """, store).startswith("bad.toml: [[table]] 1 (orders): source sales.csv is not in ")
    with store.connect() as c:
        assert c.execute(text("SELECT count(*) FROM orders")).scalar() == 0


def _reps_mapping(tmp_path, source: str) -> Path:
    return write(tmp_path / "m.toml", f"""
        [[table]]
        target = "reps"
        source = "{source}"
        [table.columns]
        rep_id = "name"
        """)


def test_a_mapping_reads_only_files_inside_the_imported_folder(store, tmp_path):
    folder = tmp_path / "export"
    write(folder / "people.csv", "name\nann\n")
    secret = write(tmp_path / "private" / "secret.csv", "name\nroot\n")
    (folder / "link.csv").symlink_to(secret)

    def refused(source: str) -> str:
        with pytest.raises(MappingError) as exc:
            import_path(store, folder, config=CONFIG, mapping=_reps_mapping(tmp_path, source))
        return str(exc.value)

    assert refused("/etc/passwd") == ("m.toml: [[table]] 1 (reps): source '/etc/passwd' is an absolute path; a "
                                      f"source is a file name inside the imported folder ({folder})")
    assert refused(str(secret)).startswith("m.toml: [[table]] 1 (reps): source '/")
    assert refused("../private/secret.csv").startswith(
        "m.toml: [[table]] 1 (reps): source '../private/secret.csv' leads out of the imported folder with '..'")
    assert refused("link.csv") == (f"m.toml: [[table]] 1 (reps): source 'link.csv' is a link to {secret.resolve()}, "
                                   f"outside {folder}; refused (copy the file into the folder instead)")
    with store.connect() as c:
        assert c.execute(text("SELECT count(*) FROM reps")).scalar() == 0

    # inside the folder, through a link that stays inside, or beside the mapping file: read
    (folder / "inner.csv").symlink_to(folder / "people.csv")
    for source in ("people.csv", "inner.csv", "private/secret.csv"):
        report = import_path(store, folder, config=CONFIG, mapping=_reps_mapping(tmp_path, source))
        assert report.ok and report.tables["reps"].read == 1, source
    with store.connect() as c:
        assert sorted(r[0] for r in c.execute(text("SELECT rep_id FROM reps"))) == ["ann", "root"]


@pytest.mark.parametrize("skip", [False, True])
def test_maven_export_with_one_bad_quote_fails_and_writes_nothing(store, tmp_path, skip):
    src = dataset("maven_crm_sales_opportunities")
    folder = tmp_path / "maven"
    folder.mkdir()
    for name in ("sales_teams.csv", "accounts.csv"):
        (folder / name).write_bytes((src / name).read_bytes())
    pipeline = (src / "sales_pipeline.csv").read_text(encoding="utf-8").splitlines()[:19]
    assert pipeline[8].count(",") == 7
    first, rest = pipeline[8].split(",", 1)
    pipeline[8] = f'{first},"{rest}'  # line 9: a quote opened and never closed
    (folder / "sales_pipeline.csv").write_text("\n".join(pipeline) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        import_path(store, folder, config=CONFIG, mapping=resolve_mapping("maven"), skip_invalid=skip)
    report = exc.value.report
    assert [str(e) for e in report.errors] == [
        "sales_pipeline.csv:9: a quote opened in this row is never closed: the file ends inside it (line 19), so "
        "the rows after it cannot be told apart (a quote inside a quoted value is written \"\")"]
    assert "sales_pipeline.csv: 19 lines: 1 header, 7 rows, 11 from line 9 on not read (see the error)" \
        in report.format_summary()
    with store.connect() as c:
        for table in ("reps", "accounts", "opportunities"):
            assert c.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


def test_slug_keeps_letters_of_any_script():
    from kpi_engine.mapping import slug

    assert slug("Moses Frase") == "moses-frase"
    assert slug("  O'Brien,  Jr. ") == "o-brien-jr"
    assert slug("สมศักดิ์ ใจดี") == "สมศักดิ์-ใจดี"
