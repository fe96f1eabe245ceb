"""`import_path` on the shapes real exports come in that test_faults3.py found through the CLI: files
glued, zipped, linked or piped; CRM headers; ids with invisible characters; Slack ids typed by people;
amounts beyond any sum; one table filled from two files; mapping files of the wrong shape."""

from __future__ import annotations

import os
import zipfile

import pytest

from kpi_engine.importer import MAX_NUMBER, ImportFailed, ImportInputError
from kpi_engine.mapping import MappingError, load_mapping
from tests.test_import import counts, rows, run, write

OPP_HEADER = "opportunity_id,created_at,status,amount,account_id,owner_rep_id,stage,closed_at,lead_id,product,currency"


def errors(exc) -> list[str]:
    return [str(e) for e in exc.value.report.errors]


# ---------------------------------------------------------------- a header again inside the file


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_a_repeated_header_is_skipped_with_a_warning_and_accounted_for(store, tmp_path, bom):
    (tmp_path / "reps.csv").write_text(f"{bom}rep_id,name,team\nr8,Dee,West\n{bom}rep_id,name,team\nr9,Eve,West\n",
                                       encoding="utf-8")
    report = run(store, tmp_path)
    assert rows(store, "SELECT rep_id, team FROM reps ORDER BY 1") == [("r8", "West"), ("r9", "West")]
    assert [str(w) for w in report.warnings] == [
        "reps.csv:3: the header line is repeated on line 3 (files joined into one?); skipped, not read as a row"]
    assert report.format_summary().endswith("reps.csv: 4 lines: 1 header, 2 rows, 1 repeating the header")


def test_a_repeated_header_is_found_as_the_header_is_read(store, tmp_path):
    # case, spaces for underscores, a zero-width space: the header reads them all as rep_id
    write(tmp_path, "reps.csv", "Rep ID,Name\nr8,Dee\nREP-ID\u200b , name\nr9,Eve\n")
    report = run(store, tmp_path)
    assert rows(store, "SELECT rep_id FROM reps ORDER BY 1") == [("r8",), ("r9",)]
    assert report.files["reps.csv"].repeated == 1


def test_a_row_whose_first_value_is_the_first_column_name_is_still_a_row(store, tmp_path):
    write(tmp_path, "reps.csv", "team,rep_id,name\nTeam,r8,Dee\n")
    report = run(store, tmp_path)
    assert rows(store, "SELECT rep_id, team FROM reps") == [("r8", "Team")]
    assert report.files["reps.csv"].repeated == 0


def test_a_header_of_other_columns_inside_the_file_fails_the_import(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name,team\nr8,Dee,West\nrep_id,team,name\nr9,West,Eve\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=True)
    (err,) = errors(exc)
    assert err.startswith("reps.csv:3: a header line again, with other columns than line 1's (rep_id, team, name)")
    assert exc.value.report.structural and counts(store) == {}


# ---------------------------------------------------------------- headers as CRMs write them


def test_a_crm_header_with_spaces_and_capitals_is_read_and_named_as_written(store, tmp_path):
    write(tmp_path, "opportunities.csv", "Opportunity ID,Created At,Status,Amount\no9,2026-05-01,open,\n"
                                         "o10,someday,open,\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == ['opportunities.csv:3: Created At: "someday" is not a date (use ISO 8601, e.g. 2026-05-04)']
    (tmp_path / "opportunities.csv").write_text("Opportunity-ID,Created At,Status,Amount\no9,2026-05-01,open,\n")
    run(store, tmp_path)
    assert rows(store, "SELECT opportunity_id, status FROM opportunities") == [("o9", "open")]


def test_one_column_written_two_ways_is_named_with_both_spellings(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,Rep ID,name\nr1,r1,Ann\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == ["reps.csv:1: rep_id: appears more than once in the header (as rep_id, Rep ID)"]


def test_a_missing_required_column_points_at_the_column_it_may_be(store, tmp_path):
    write(tmp_path, "reps.csv", "repid,name\nr1,Ann\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == ['reps.csv:1: rep_id: required column is missing from the header (is "repid" it? name '
                           'that column rep_id)']


@pytest.mark.parametrize(("body", "which"), [(",rep_id,name\n0,r8,Dee\n", "column 1 has"),
                                             ("rep_id,name,\nr8,Dee,x\n", "column 3 has"),
                                             (",rep_id,,name\n0,r8,,Dee\n", "columns 1, 3 have")])
def test_a_column_without_a_name_is_named_by_its_place(store, tmp_path, body, which):
    write(tmp_path, "reps.csv", body)
    report = run(store, tmp_path)
    assert [str(w) for w in report.warnings] == [
        f"reps.csv:1: {which} no name in the header, so no table column: its values are not read (a "
        f"spreadsheet's row numbers, or a comma at the end of the header line?)"]
    assert rows(store, "SELECT rep_id, name FROM reps") == [("r8", "Dee")]


def test_a_file_not_separated_by_commas_fails_even_with_skip_invalid(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name\nr9,Eve\n")
    write(tmp_path, "orders.csv", "order_id;account_id;ordered_at;amount\no9;a1;2026-05-02;5\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, skip_invalid=True)
    (err,) = errors(exc)
    assert err.startswith("orders.csv:1: the header is separated by semicolons (;), not commas")
    assert counts(store) == {}
    assert exc.value.report.format_summary().endswith("orders.csv: 2 lines: 1 header, 1 row")


def test_a_failed_import_does_not_say_its_rows_were_imported(store, tmp_path):
    write(tmp_path, "orders.csv", "order_id,account_id,ordered_at,amount\no1,a1,2026-05-01,5\no2,a1,nope,6\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    text_ = exc.value.report.format_issues()
    assert "imported anyway" not in text_ and "not an error (imported once the errors are fixed)" in text_
    write(tmp_path, "orders.csv", "order_id,account_id,ordered_at,amount\no1,a1,2026-05-01,5\n")
    assert "; imported anyway" in run(store, tmp_path).format_issues()


# ---------------------------------------------------------------- files that are not files of CSV text


def test_a_zip_of_csv_files_is_named_as_one_to_unzip(store, tmp_path):
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as z:
        z.writestr("export/reps.csv", "rep_id,name\nr9,Eve\n")
    with pytest.raises(ImportInputError) as exc:
        run(store, tmp_path / "export.zip")
    assert str(exc.value).startswith("export.zip is a zip archive, holding reps.csv, not CSV text: unzip it")
    (tmp_path / "export.zip").rename(tmp_path / "reps.csv")  # renamed: named the same, as a file of the import
    with pytest.raises(ImportFailed) as failed:
        run(store, tmp_path)
    assert errors(failed)[0].startswith("reps.csv:1: is a zip archive, holding reps.csv, not CSV text")
    assert counts(store) == {}


def test_a_real_workbook_is_named_an_excel_workbook(store, tmp_path):
    with zipfile.ZipFile(tmp_path / "reps.csv", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc)[0].startswith("reps.csv:1: is an Excel workbook (.xlsx), not CSV text: save it as CSV")


def test_a_folder_holding_only_a_zip_says_to_unzip_it(store, tmp_path):
    with zipfile.ZipFile(tmp_path / "hubspot.zip", "w") as z:
        z.writestr("reps.csv", "rep_id\nr1\n")
    with pytest.raises(ImportInputError, match="it holds no .csv file but hubspot.zip: unzip it into the folder"):
        run(store, tmp_path)


def test_a_pipe_is_one_error_naming_it(store, tmp_path):
    os.mkfifo(tmp_path / "reps.csv")
    with pytest.raises(ImportInputError, match="reps.csv is a pipe"):
        run(store, tmp_path / "reps.csv")
    with pytest.raises(ImportInputError, match="reps.csv: cannot read the file: it is a pipe"):
        run(store, tmp_path)


def test_a_tables_file_that_is_a_broken_link_stops_the_import(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name\nr9,Eve\n")
    (tmp_path / "opportunities.csv").symlink_to(tmp_path / "share" / "opportunities.csv")
    with pytest.raises(ImportInputError) as exc:
        run(store, tmp_path)
    assert str(exc.value) == (f"{tmp_path / 'opportunities.csv'}: cannot read the file: it is a link to "
                              f"{tmp_path / 'share' / 'opportunities.csv'}, which does not exist (a share or drive "
                              f"not mounted?); nothing was written")
    assert counts(store) == {}
    with pytest.raises(ImportInputError, match="is a link to .*, which does not exist"):
        run(store, tmp_path / "opportunities.csv")


# ---------------------------------------------------------------- ids


def test_zero_width_characters_around_ids_and_references_are_dropped(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name,team\n\ufeffr1\u200b,Ann,East\u200b\n")
    write(tmp_path, "opportunities.csv", f"{OPP_HEADER}\no1\u2060,2026-05-01,open,,,\u200dr1,,,,,\n")
    report = run(store, tmp_path)
    assert report.warnings == []  # r1 is known: the reference is the same id
    assert rows(store, "SELECT rep_id, team FROM reps") == [("r1", "East\u200b")]  # ids only
    assert rows(store, "SELECT opportunity_id, owner_rep_id FROM opportunities") == [("o1", "r1")]


def test_an_id_with_a_zero_width_space_duplicates_the_id_without_it(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name\nr9,Eve\nr9\u200b,Eve Two\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == ['reps.csv:3: rep_id: "r9" duplicates line 2']


# ---------------------------------------------------------------- Slack member ids


@pytest.mark.parametrize("sid", ["U04ABC123", "W012XYZ", "U1", "U_ME"])
def test_slack_member_ids_are_read(store, tmp_path, sid):
    write(tmp_path, "reps.csv", f"rep_id,name,slack_user_id\nr9,Eve,{sid}\n")
    run(store, tmp_path)
    assert rows(store, "SELECT slack_user_id FROM reps") == [(sid,)]


@pytest.mark.parametrize(("sid", "says"), [
    ("@eve", '"@eve" is a Slack name, not a member id (U or W then capital letters and digits'),
    ("eve@example.com", '"eve@example.com" is an e-mail address, not a Slack member id'),
    ("<@U09>", '"<@U09>" is a Slack mention, not a member id: write U09 alone'),
    ("<@U09|eve>", '"<@U09|eve>" is a Slack mention, not a member id: write U09 alone'),
    ("u04abc1", '"u04abc1" is not a Slack member id: member ids are in capitals (U04ABC1)'),
    ("Eve Lee", '"Eve Lee" is not a Slack member id (U or W'),
])
def test_a_slack_user_id_that_is_not_a_member_id_is_a_row_error(store, tmp_path, sid, says):
    write(tmp_path, "reps.csv", f"rep_id,name,slack_user_id\nr9,Eve,{sid}\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    (err,) = errors(exc)
    assert err.startswith(f"reps.csv:2: slack_user_id: {says}"), err


def test_one_slack_user_on_two_reps_of_a_file_is_a_row_error(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name,slack_user_id\nr8,Dee,U08\nr9,Eve,U08\nr8,Dee,U08\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == [  # a copied row is a duplicate id, not a second link
        'reps.csv:3: slack_user_id: "U08" is also rep r8\'s (line 2): a Slack user links to one rep, whose numbers '
        'their "my …" questions read',
        'reps.csv:4: rep_id: "r8" duplicates line 2',
    ]
    run(store, tmp_path, skip_invalid=True)
    assert rows(store, "SELECT rep_id, slack_user_id FROM reps") == [("r8", "U08")]


def test_one_slack_user_on_a_stored_rep_and_an_imported_one_is_a_warning(store, tmp_path):
    write(tmp_path, "reps.csv", "rep_id,name,slack_user_id\nr1,Ann,U01\nr2,Bo,U02\n")
    run(store, tmp_path)
    write(tmp_path, "reps.csv", "rep_id,name,slack_user_id\nr3,Cee,U01\nr2,Bo,U03\nr4,Dee,U02\n")
    report = run(store, tmp_path)
    # U02 moved from r2 to r4 in the same file: no conflict left
    assert [str(w) for w in report.warnings] == [
        'reps.csv:2: slack_user_id: "U01" is also rep r1\'s, a rep not in this file: a Slack user links to one '
        'rep, whose numbers their "my …" questions read; empty it in the other rep\'s row']


# ---------------------------------------------------------------- amounts no sum can hold


@pytest.mark.parametrize("amount", ["1e308", "-1e15", "1000000000000000", "1.7e300"])
def test_an_amount_beyond_the_limit_is_a_row_error_naming_it(store, tmp_path, amount):
    write(tmp_path, "orders.csv", f"order_id,account_id,ordered_at,amount\no1,a1,2026-05-01,{amount}\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc) == [f'orders.csv:2: amount: "{amount}" is beyond ±1,000,000,000,000,000 (10^15), the largest '
                           f'number kpibot reads: a typo, or digits of another column (a phone number, an id)?']


def test_amounts_just_below_the_limit_add_up(store, tmp_path):
    below = "999999999999999"
    assert float(below) < MAX_NUMBER
    write(tmp_path, "orders.csv", f"order_id,account_id,ordered_at,amount\no1,a1,2026-05-01,{below}\n"
                                  f"o2,a1,2026-05-01,{below}\no3,a1,2026-05-01,-{below}\n")
    run(store, tmp_path)
    assert rows(store, "SELECT SUM(amount) FROM orders") == [(float(below),)]


def test_a_target_beyond_the_limit_is_a_row_error(store, tmp_path):
    write(tmp_path, "targets.csv", "period,metric,value\n2026-05,revenue,5e20\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path)
    assert errors(exc)[0].startswith('targets.csv:2: value: "5e20" is beyond ±1,000,000,000,000,000')


# ---------------------------------------------------------------- one table from two files


TWO_TEAMS = """
    [[table]]
    target = "reps"
    source = "team_a.csv"
    [table.columns]
    rep_id = "id"
    name = "name"

    [[table]]
    target = "reps"
    source = "team_b.csv"
    {distinct}
    [table.columns]
    rep_id = "id"
    name = "name"
    """


def test_one_id_in_two_files_filling_one_table_is_a_row_error(store, tmp_path):
    write(tmp_path, "team_a.csv", "id,name\nr8,Dee\nr9,Eve\n")
    write(tmp_path, "team_b.csv", "id,name\nr7,Cee\nr8,Dede\n")
    mapping = write(tmp_path, "m.toml", TWO_TEAMS.format(distinct=""))
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, mapping=mapping)
    assert errors(exc) == ['team_b.csv:3: id: "r8" duplicates team_a.csv line 2: both files fill reps in this '
                           'import, and an id must be in one of them']
    report = run(store, tmp_path, mapping=mapping, skip_invalid=True)
    assert rows(store, "SELECT rep_id, name FROM reps ORDER BY 1") == [("r7", "Cee"), ("r8", "Dee"), ("r9", "Eve")]
    assert report.tables["reps"].skipped == 1


def test_a_distinct_source_keeps_the_row_of_the_earlier_file(store, tmp_path):
    write(tmp_path, "team_a.csv", "id,name\nr8,Dee\n")
    write(tmp_path, "team_b.csv", "id,name\nr8,Dede\nr9,Eve\n")
    report = run(store, tmp_path, mapping=write(tmp_path, "m.toml", TWO_TEAMS.format(distinct="distinct = true")))
    assert rows(store, "SELECT rep_id, name FROM reps ORDER BY 1") == [("r8", "Dee"), ("r9", "Eve")]
    assert report.tables["reps"].dropped == 1


def test_keys_of_an_earlier_file_are_found_after_they_moved_out_of_memory(store, tmp_path, monkeypatch):
    from kpi_engine.importer import _SeenKeys

    monkeypatch.setattr(_SeenKeys, "_CHUNK", 4)
    write(tmp_path, "team_a.csv", "id,name\n" + "".join(f"r{i},A{i}\n" for i in range(10)))
    write(tmp_path, "team_b.csv", "id,name\n" + "".join(f"s{i},B{i}\n" for i in range(10)) + "r2,again\n")
    with pytest.raises(ImportFailed) as exc:
        run(store, tmp_path, mapping=write(tmp_path, "m.toml", TWO_TEAMS.format(distinct="")))
    assert errors(exc) == ['team_b.csv:12: id: "r2" duplicates team_a.csv line 4: both files fill reps in this '
                           'import, and an id must be in one of them']


# ---------------------------------------------------------------- mapping files of the wrong shape


@pytest.mark.parametrize(("body", "says"), [
    ('table = ["reps"]\n', "m.toml: table = [...] is a list of values ('reps' is entry 1): write one [[table]]"),
    ("table = [5]\n", "m.toml: table = [...] is a list of values (5 is entry 1)"),
    ('[table]\ntarget = "reps"\n', "m.toml: [table] is written with single brackets: write [[table]]"),
])
def test_a_mapping_whose_table_is_not_a_list_of_tables_is_named(tmp_path, body, says):
    with pytest.raises(MappingError) as exc:
        load_mapping(write(tmp_path, "m.toml", body))
    assert str(exc.value).startswith(says), str(exc.value)
