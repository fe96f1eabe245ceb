"""Fault and bad-input kinds beyond the other fault tests (issue 8), tried as an adversary would, each
through the real CLI in a child process as a user runs it (or the function the CLI calls).

The promise under test: bad input gets one clear line naming the file, line, field or setting; no
traceback for a user's mistake; a command that could not finish exits non-zero with a documented
code (README, "Exit codes"); nothing half-written; secrets never printed.

Tests marked xfail(strict=True) are findings: what the current code does instead is in the reason."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import PG_URL, ROOT, _pg_available, new_pg_schema
from tests.fixtures import write

KPIBOT = ROOT / ".venv" / "bin" / "kpibot"
DEFAULT_CONFIG = ROOT / "config" / "default.toml"
ASK = ["ask", "revenue", "2026", "--as-of", "2026-06-01"]
ORDERS_HEADER = "order_id,account_id,ordered_at,amount\n"


def kb(args: list[str], database_url: str | None, *, cwd: Path, env: dict | None = None,
       unprivileged: bool = False, timeout: float = 30, pre: list[str] | None = None) -> subprocess.CompletedProcess:
    """`kpibot ARGS` as a user runs it. unprivileged: as root without the capabilities that ignore
    file modes (so chmod 000 means what it says); skipped where that cannot be arranged."""
    cmd = [str(KPIBOT)] if KPIBOT.exists() and pre is None else [sys.executable, *(pre or ["-m", "kpibot"])]
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a chmod'ed file stays readable for root")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable", *cmd]
    full = {**os.environ, "COLUMNS": "200"}
    for k in ("KPIBOT_CONFIG", "KPIBOT_LOG_LEVEL", "KPIBOT_LOG_FORMAT", "PORT", "HOST", "SLACK_BOT_TOKEN",
              "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        full.pop(k, None)
    if database_url is not None:
        full["DATABASE_URL"] = database_url
    full.update(env or {})
    return subprocess.run([*cmd, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout,
                          errors="replace")


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]


def one_line(done: subprocess.CompletedProcess, code: int) -> str:
    """The failure promise: exit `code`, one line on stderr starting `kpibot:`, no traceback."""
    no_traceback(done)
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("kpibot: "), lines[0]
    return lines[0]


def failed_import(done: subprocess.CompletedProcess) -> str:
    """A failed import: exit 2, no traceback, the first stderr line says nothing was written; the
    problems follow, one a line. Returns the whole stderr."""
    no_traceback(done)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("kpibot: import failed, nothing was written"), done.stderr
    return done.stderr


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory) -> Path:
    """A SQLite store with 2 reps and 1 order, written once through the CLI; tests use copies."""
    base = tmp_path_factory.mktemp("seed")
    write(base / "csv" / "reps.csv", "rep_id,name\nr1,Ann\nr2,Bob\n")
    write(base / "csv" / "orders.csv", ORDERS_HEADER + "o1,a1,2026-05-01,100\n")
    db = base / "seed.db"
    done = kb(["import", str(base / "csv")], f"sqlite:///{db}", cwd=base)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def db(seeded_db, tmp_path) -> Path:
    dst = tmp_path / "store.db"
    shutil.copyfile(seeded_db, dst)
    return dst


def url(db: Path) -> str:
    return f"sqlite:///{db}"


def import_folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "in"
    for name, body in files.items():
        write(folder / name, body)
    return folder


# ====================================================================== CSV files: what holds


@pytest.mark.parametrize("encoding", ["utf-16", "cp874"])  # Windows "Unicode" save; Thai legacy (TIS-620)
def test_a_csv_in_another_encoding_is_refused_naming_the_file_and_writes_nothing(db, tmp_path, encoding):
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,สมชาย\n".encode(encoding)})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    named = {"utf-16": "reps.csv:1: is UTF-16 text", "cp874": "reps.csv:2: is not UTF-8 text: it reads as Thai in "
             "Windows-874"}[encoding]
    assert named in err and "CSV UTF-8 (Comma delimited)" in err
    assert count(db, "reps") == 2


def test_classic_mac_cr_only_line_endings_are_rows(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": b"rep_id,name\rr8,Cee\rr9,Dee\r"})
    done = kb(["import", str(folder)], url(db), cwd=tmp_path)
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert count(db, "reps") == 4


@pytest.mark.parametrize("header", ["rep_id,name,name", "rep_id,Rep_ID ,name"])
def test_a_column_named_twice_in_the_header_is_refused(db, tmp_path, header):
    folder = import_folder(tmp_path, {"reps.csv": f"{header}\nr9,A,B\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "reps.csv:1: " in err and "appears more than once in the header" in err
    assert count(db, "reps") == 2


@pytest.mark.parametrize("amount", ['"1,200"', "฿1200", '"฿1,200.00"', "1200 THB", "1e400", "nan", "inf",
                                    "9" * 400])
def test_amounts_people_type_or_that_overflow_are_refused_with_file_line_column(db, tmp_path, amount):
    folder = import_folder(tmp_path, {"orders.csv": ORDERS_HEADER + f"o9,a1,2026-05-02,{amount}\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "orders.csv:2: amount: " in err and "is not a number" in err
    assert count(db, "orders") == 1


@pytest.mark.parametrize("day", ["01/05/2026", "1 May 2026", "2026-02-30", "2026-05-01T24:30"])
def test_dates_not_in_iso_form_are_refused_with_file_line_column(db, tmp_path, day):
    folder = import_folder(tmp_path, {"orders.csv": ORDERS_HEADER + f"o9,a1,{day},5\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "orders.csv:2: ordered_at: " in err and "is not a date" in err
    assert count(db, "orders") == 1


def test_a_semicolon_separated_export_is_refused_naming_the_separator(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": "rep_id;name\nr9;Ann\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "reps.csv:1: the header is separated by semicolons (;), not commas" in err
    assert "required column" not in err
    assert count(db, "reps") == 2


def test_a_20_mb_line_without_a_newline_fails_fast_and_writes_nothing(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": b"rep_id,name\n" + b"x" * 20_000_000})
    started = time.monotonic()
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert time.monotonic() - started < 15
    assert "reps.csv:2: a value runs over 131,072 characters" in err
    assert count(db, "reps") == 2


def test_a_long_value_without_quotes_is_not_blamed_on_a_quote(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": b"rep_id,name\n" + b"x" * 200_000 + b",Ann\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "quote" not in err


# ====================================================================== CSV files: findings


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-01T06:00:00+07:00"])
def test_a_date_at_the_edge_of_the_calendar_is_a_row_error_not_a_crash(db, tmp_path, day):
    folder = import_folder(tmp_path, {"orders.csv": ORDERS_HEADER + f"o9,a1,{day},5\n"})
    err = failed_import(kb(["import", str(folder)], url(db), cwd=tmp_path))
    assert "orders.csv:2: ordered_at: " in err
    assert count(db, "orders") == 1


def test_a_csv_without_read_permission_is_one_line(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,Ann\n"})
    (folder / "reps.csv").chmod(0)
    try:
        line = one_line(kb(["import", str(folder)], url(db), cwd=tmp_path, unprivileged=True), 2)
    finally:
        (folder / "reps.csv").chmod(0o644)
    assert "reps.csv" in line
    assert count(db, "reps") == 2


@pytest.fixture
def pg_schema_url():
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = new_pg_schema()
    yield conftest.pg_schema_url(schema), schema
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_nul_byte_in_a_csv_is_a_row_error_on_postgresql(pg_schema_url, tmp_path):
    store_url, schema = pg_schema_url
    folder = import_folder(tmp_path, {"reps.csv": b"rep_id,name\nr1,Ann\nr2,A\x00nn\n"})
    err = failed_import(kb(["import", str(folder)], store_url, cwd=tmp_path))
    assert "reps.csv:3: name: " in err
    import psycopg

    with psycopg.connect(PG_URL) as c:
        assert c.execute(f'SELECT count(*) FROM "{schema}".reps').fetchone()[0] == 0


# ====================================================================== mapping files


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_mapping_file_not_in_utf8_is_one_line(db, tmp_path, encoding):
    folder = import_folder(tmp_path, {"people.csv": "id,name\nr9,Ann\n"})
    mapping = write(tmp_path / "m.toml", ('[mapping]\nname = "Café export"\n[[table]]\ntarget = "reps"\n'
                                          'source = "people.csv"\n[table.columns]\nrep_id = "id"\n').encode(encoding))
    line = one_line(kb(["import", str(folder), "--mapping", str(mapping)], url(db), cwd=tmp_path), 2)
    assert "m.toml" in line
    assert count(db, "reps") == 2


def test_mapping_mistakes_found_on_the_cli_are_one_line(db, tmp_path):
    """Kinds the mapping tests do not try: a mapping path that is a folder, a mapping name with a typo,
    a source that is a folder, an unreadable mapping file."""
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,Ann\n"})
    (folder / "sub").mkdir()
    (tmp_path / "mapdir").mkdir()
    src_dir = write(tmp_path / "srcdir.toml", '[[table]]\ntarget = "reps"\nsource = "sub"\n[table.columns]\n'
                                              'rep_id = "rep_id"\n')
    for mapping, says in [(str(tmp_path / "mapdir"), "cannot read the mapping file"),
                          ("mavn", "mapping 'mavn' not found"),
                          (str(src_dir), "source 'sub' in")]:
        line = one_line(kb(["import", str(folder), "--mapping", mapping], url(db), cwd=tmp_path), 2)
        assert says in line, line
    assert count(db, "reps") == 2


# ====================================================================== DATABASE_URL


@pytest.mark.parametrize("bad", ["", "not a url", "sqlite:", "kpibot.db"])
def test_an_unparsable_database_url_is_one_line_exit_2(tmp_path, bad):
    line = one_line(kb(ASK, bad, cwd=tmp_path), 2)
    assert "DATABASE_URL" in line


@pytest.mark.parametrize("bad", ["foo://x/y", "mysql://root@127.0.0.1:1/x", "postgresql+foo://u@127.0.0.1:1/x"])
def test_an_unsupported_database_scheme_is_one_line_exit_2(tmp_path, bad):
    line = one_line(kb(ASK, bad, cwd=tmp_path), 2)
    assert "DATABASE_URL" in line


def test_a_database_url_with_a_port_that_is_not_a_number_is_one_line_exit_2(tmp_path):
    line = one_line(kb(ASK, "postgresql://postgres@127.0.0.1:abc/test", cwd=tmp_path), 2)
    assert "DATABASE_URL" in line or "port" in line


@pytest.mark.parametrize("bad", ["postgresql://postgres@127.0.0.1:99999/test",
                                 "postgresql://postgres@127.0.0.1:1/test?sslmode=bogus"])
def test_a_malformed_postgresql_url_is_a_mistake_not_an_outage(tmp_path, bad):
    line = one_line(kb(ASK, bad, cwd=tmp_path), 2)
    assert "try again" not in line.lower()


def test_a_postgresql_database_or_role_that_does_not_exist_is_one_line_exit_2(tmp_path):
    if _pg_available():
        pytest.skip(_pg_available())
    for bad, says in [("postgresql://postgres@127.0.0.1:5432/no_such_db_kpibot", 'database "no_such_db_kpibot"'),
                      ("postgresql://no_such_role_kpibot:pw@127.0.0.1:5432/test", 'role "no_such_role_kpibot"')]:
        line = one_line(kb(ASK, bad, cwd=tmp_path), 2)
        assert says in line and "check DATABASE_URL" in line


def test_a_database_url_naming_a_folder_says_it_is_a_folder(tmp_path):
    line = one_line(kb(ASK, f"sqlite:///{tmp_path}", cwd=tmp_path), 2)
    assert "folder" in line or "directory" in line


@pytest.mark.parametrize("mem", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_import_into_an_in_memory_store_is_refused(tmp_path, mem):
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,Ann\n"})
    done = kb(["import", str(folder)], mem, cwd=tmp_path)
    one_line(done, 2)


SECRET_AT = "Sec@RetPw9"  # a password with an '@', not percent-encoded, as people paste them

# the child process resolves no name but 127.0.0.1/localhost (the malformed URL makes a host name out of
# the rest of the password: no DNS query may leave this machine)
_NO_DNS = ("import socket, sys\n_real = socket.getaddrinfo\n"
           "def _local_only(host, *a, **k):\n"
           "    if host not in ('127.0.0.1', 'localhost', '::1', None):\n"
           "        raise socket.gaierror(-2, 'Name or service not known')\n"
           "    return _real(host, *a, **k)\n"
           "socket.getaddrinfo = _local_only\nsys.argv[0] = 'kpibot'\nfrom kpibot.cli import main\nmain()\n")


def test_a_password_with_an_unescaped_at_sign_is_never_printed(tmp_path):
    done = kb(ASK, f"postgresql://postgres:{SECRET_AT}@127.0.0.1:1/test", cwd=tmp_path, pre=["-c", _NO_DNS])
    no_traceback(done)
    assert done.returncode != 0
    tail = SECRET_AT.split("@", 1)[1]
    assert tail not in done.stdout + done.stderr and SECRET_AT not in done.stdout + done.stderr


# ====================================================================== a locked SQLite store

_LOCKER = ("import sqlite3, sys, time\n"
           "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
           "c.execute('BEGIN IMMEDIATE')\n"
           "c.execute(\"INSERT INTO reps (rep_id, name) VALUES ('locker', 'L')\")\n"
           "print('held', flush=True)\n"
           "time.sleep(float(sys.argv[2]))\n"
           "c.execute('ROLLBACK')\n")


def _hold_write_lock(db: Path, seconds: float) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", _LOCKER, str(db), str(seconds)], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"held"
    return child


def test_an_import_waits_for_another_writer_and_then_goes_through(db, tmp_path):
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,Ann\n"})
    child = _hold_write_lock(db, 3)
    try:
        done = kb(["import", str(folder)], url(db), cwd=tmp_path, timeout=25)
    finally:
        child.kill()
        child.wait()
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert count(db, "reps") == 3  # ours, not the locker's (rolled back)


def test_asking_while_another_process_writes_answers_without_waiting_for_it(db, tmp_path):
    assert kb(ASK, url(db), cwd=tmp_path).returncode == 0  # the lexicon is cached
    folder = import_folder(tmp_path, {"reps.csv": "rep_id,name\nr9,Somsak\n"})
    assert kb(["import", str(folder)], url(db), cwd=tmp_path).returncode == 0  # data changed
    child = _hold_write_lock(db, 40)  # a long import or sync holds the write lock
    try:
        try:
            done = kb(ASK, url(db), cwd=tmp_path, timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("kpibot ask did not answer within 10 s while another process was writing")
    finally:
        child.kill()
        child.wait()
    no_traceback(done)
    assert done.returncode == 0 and "Revenue" in done.stdout


# ====================================================================== config (KPIBOT_CONFIG)


@pytest.mark.parametrize(("body", "says"), [
    ('timezone = "Asia/Bangkok"\n[slack\n', "not valid TOML"),
    ('min_sample = "ten"\n', "min_sample"),
    ('timezone = "Asia/Bangkokk"\n', "unknown timezone 'Asia/Bangkokk'"),
    ('[[digests]]\nid = "w"\ncron = "0 25 * * mon"\nkpis = ["revenue"]\n', "digests.0.cron"),
    ('[[digests]]\nid = "w"\ncron = "0 9 * * mon"\nkpis = ["revenu"]\n', "unknown KPI 'revenu'"),
    ('[alerts]\ncron = "every day"\n', "alerts.cron"),
    ('[slack]\nbot_token = "xoxb-1"\n', "slack.bot_token"),
])
def test_config_mistakes_stop_every_command_in_one_line_naming_the_file_and_field(db, tmp_path, body, says):
    cfg = write(tmp_path / "my.toml", body)
    line = one_line(kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg)}), 2)
    assert str(cfg) in line and says in line, line


def test_a_config_path_that_is_a_folder_is_one_line(db, tmp_path):
    line = one_line(kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(tmp_path)}), 2)
    assert str(tmp_path) in line


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_config_not_in_utf8_is_one_line(db, tmp_path, encoding):
    cfg = write(tmp_path / "my.toml", '# Café team settings\ncurrency = "THB"\n'.encode(encoding))
    line = one_line(kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg)}), 2)
    assert str(cfg) in line


def test_an_unreadable_config_is_one_line(db, tmp_path):
    cfg = write(tmp_path / "my.toml", 'currency = "THB"\n')
    cfg.chmod(0)
    try:
        line = one_line(kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg)}, unprivileged=True), 2)
    finally:
        cfg.chmod(0o644)
    assert str(cfg) in line


def test_a_config_with_a_byte_order_mark_is_read_or_the_mark_is_named(db, tmp_path):
    cfg = write(tmp_path / "my.toml", '\ufeffcurrency = "THB"\n'.encode())
    done = kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg)})
    no_traceback(done)
    assert done.returncode == 0 or "byte order mark" in done.stderr.lower() or "bom" in done.stderr.lower()


@pytest.mark.parametrize(("body", "key"), [('timezon = "UTC"\n', "timezon"), ('curency = "USD"\n', "curency"),
                                         ('[sceduler]\nenabled = false\n', "sceduler")])
def test_a_misspelt_top_level_key_is_named(db, tmp_path, body, key):
    cfg = write(tmp_path / "my.toml", body)
    done = kb(ASK, url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg)})
    no_traceback(done)
    assert key in done.stderr, (done.returncode, done.stderr)


# ====================================================================== environment


@pytest.mark.parametrize("args", [ASK, ["import", "nowhere"], ["outbox", "list"]])
def test_port_that_is_not_a_number_is_one_line_naming_port(db, tmp_path, args):
    line = one_line(kb(args, url(db), cwd=tmp_path, env={"PORT": "abc"}), 2)
    assert "PORT" in line


def test_run_on_an_impossible_port_is_one_line(db, tmp_path):
    line = one_line(kb(["run"], url(db), cwd=tmp_path, env={"PORT": "99999"}, timeout=60), 2)
    assert "99999" in line


# ====================================================================== the command line


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "2026-06-01T25:00", "1e10",
                                   "2026-06-01T10:00:00+25:00"])
def test_a_malformed_as_of_is_one_line_exit_2(db, tmp_path, as_of):
    line = one_line(kb(["ask", "revenue", "--as-of", as_of], url(db), cwd=tmp_path), 2)
    assert f"--as-of {as_of!r}" in line


@pytest.mark.parametrize(("cmd", "as_of"), [("ask", "0001-01-01"), ("ask", "9999-12-31"),
                                            ("alerts", "0001-01-01"), ("digest", "9999-12-31")])
def test_an_as_of_at_the_edge_of_the_calendar_is_one_line_exit_2(db, tmp_path, cmd, as_of):
    args = ["ask", "revenue"] if cmd == "ask" else [cmd, "--dry-run"]
    one_line(kb([*args, "--as-of", as_of], url(db), cwd=tmp_path), 2)


@pytest.mark.parametrize("text", ["x" * 10_000, "revenue " * 1500])
def test_a_10000_character_question_is_refused_in_one_line(db, tmp_path, text):
    line = one_line(kb(["ask", text], url(db), cwd=tmp_path), 2)
    assert "too long" in line and len(line) < 300


def test_control_characters_in_a_question_never_reach_the_terminal(db, tmp_path):
    done = kb(["ask", "revenue\x1b]0;pwned\x07\x1b[2J 2026", "--as-of", "2026-06-01"], url(db), cwd=tmp_path)
    no_traceback(done)
    assert done.returncode in (0, 2)
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr


@pytest.mark.parametrize("days", ["nan", "inf"])
def test_outbox_purge_with_a_non_finite_age_is_one_line(db, tmp_path, days):
    line = one_line(kb(["outbox", "purge", "--days", days, "--dry-run"], url(db), cwd=tmp_path), 2)
    assert "--days" in line


@pytest.mark.parametrize("args", [["bogus"], ["ask", "--bogus", "x"], ["import"], ["demo-data", "--seed", "abc"]])
def test_usage_mistakes_exit_2_without_a_traceback(db, tmp_path, args):
    done = kb(args, url(db), cwd=tmp_path)
    no_traceback(done)
    assert done.returncode == 2


# ====================================================================== sync sources


def _sql_source_config(tmp_path: Path) -> Path:
    return write(tmp_path / "sync.toml", """
        [[sources]]
        name = "crm"
        kind = "sql"
        url_env = "CRM_URL"
        cron = "*/15 * * * *"
        [sources.queries.reps]
        query = "SELECT 'x' AS rep_id"
        """)


@pytest.mark.parametrize("crm_url", ["not a url", "foo://x/y"])
def test_a_malformed_source_url_is_one_warning_line_not_an_error_with_a_traceback(db, tmp_path, crm_url):
    cfg = _sql_source_config(tmp_path)
    done = kb(["sync"], url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg), "CRM_URL": crm_url})
    no_traceback(done)
    assert done.returncode == 1
    assert " ERROR " not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 1
    assert "CRM_URL" in done.stdout + done.stderr


def test_an_unset_or_unreachable_source_is_reported_in_one_line_without_the_password(db, tmp_path):
    cfg = _sql_source_config(tmp_path)
    for env in ({}, {"CRM_URL": "postgresql://u:SecretPw9@127.0.0.1:1/x"}):
        done = kb(["sync"], url(db), cwd=tmp_path, env={"KPIBOT_CONFIG": str(cfg), **env})
        no_traceback(done)
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1
        assert "SecretPw9" not in done.stdout + done.stderr
    assert count(db, "reps") == 2
