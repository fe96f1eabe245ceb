"""Store failures in one line each, with a documented exit code, nothing lost, and recovery when the
store is back: a read-only file or folder, a full disk, a file damaged in the middle, PostgreSQL away."""

from __future__ import annotations

import logging
import random
import re
import shutil
import socket
from pathlib import Path

import pytest
from sqlalchemy import event, make_url, text

from config.app_config import AppConfig
from kpi_engine.db import StoreCorrupt, StoreError, StoreNotWritable, StoreUnavailable, open_store
from kpi_engine.importer import import_path
from tests.conftest import PG_URL, dataset
from tests.fixtures import load
from tests.store_faults import TcpProxy, cli, tiny_disk
from tests.test_bot_harness import message_text

pytest_plugins = ["tests.test_bot_harness"]

ASK = ["ask", "revenue", "2017", "--as-of", "2017-12-31"]


def _count(url: str, table: str) -> int:
    with open_store(url).connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.fixture(scope="module")
def maven_db(tmp_path_factory) -> Path:
    """A SQLite store holding the Maven dataset, written once; tests work on copies."""
    path = tmp_path_factory.mktemp("maven") / "maven.db"
    engine = open_store(f"sqlite:///{path}")
    import_path(engine, dataset("maven_crm_sales_opportunities"), config=AppConfig(), mapping="maven")
    engine.dispose()
    open_store.cache_clear()
    for extra in ("-wal", "-shm"):
        assert not Path(f"{path}{extra}").exists()
    return path


def _copy(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "store.db"
    shutil.copyfile(src, dst)
    return dst


def _one_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def _new_reps(folder: Path, n: int = 5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reps.csv").write_text("rep_id,name\n" + "".join(f"new{i},New {i}\n" for i in range(n)))
    return folder


# ---------------------------------------------------------------- read-only


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_answers_questions_and_refuses_writes_in_one_line(maven_db, tmp_path, what):
    db = _copy(maven_db, tmp_path / "ro")
    url = f"sqlite:///{db}"
    before = db.read_bytes()
    if what == "file":
        db.chmod(0o444)
    else:
        db.parent.chmod(0o555)
    try:
        asked = cli(ASK, url, unprivileged=True)
        assert asked.returncode == 0, asked.stderr
        assert "Revenue" in asked.stdout and "9,963,770" in asked.stdout

        imported = cli(["import", str(_new_reps(tmp_path / "csv"))], url, unprivileged=True)
        line = _one_line(imported)
        assert imported.returncode == 5
        reason = "the file is not writable" if what == "file" else f"its folder {db.parent} is not writable"
        assert line.startswith(f"kpibot: the store {db} is read-only ({reason}")
        assert "not a SQLite database" not in line
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)
    assert db.read_bytes() == before
    # writable again: the same command works
    assert cli(["import", str(tmp_path / "csv")], url).returncode == 0
    assert _count(url, "reps") == 35 + 5


# ---------------------------------------------------------------- full disk


def test_a_disk_filling_during_an_import_rolls_back_and_says_so(tmp_path):
    """SQLITE_FULL forced with max_page_count (any machine): the import fails with StoreNotWritable,
    the store keeps what it had, and once there is room the same import goes through."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    load(store, tmp_path / "fixture")
    reps_before = _count(url, "reps")
    with store.connect() as c:
        pages = c.exec_driver_sql("PRAGMA page_count").scalar()
    limit = {"pages": pages + 20}

    @event.listens_for(store, "connect")
    def _small_disk(dbapi_conn, _rec):
        dbapi_conn.execute(f"PRAGMA max_page_count = {limit['pages']}")

    store.dispose()
    folder = _new_reps(tmp_path / "csv", 20_000)
    with pytest.raises(StoreNotWritable) as exc:
        import_path(store, folder, config=AppConfig())
    assert str(exc.value).startswith(f"the disk holding the store {tmp_path / 'store.db'} is full (database or "
                                     "disk is full): nothing was written, the transaction was rolled back")
    assert exc.value.exit_code == 5
    assert _count(url, "reps") == reps_before

    limit["pages"] = 1_000_000
    store.dispose()
    report = import_path(store, folder, config=AppConfig())
    assert report.tables["reps"].inserted == 20_000


def test_a_real_full_disk_in_the_cli_is_one_line_exit_5(maven_db, tmp_path):
    with tiny_disk(tmp_path / "disk", size_kb=(maven_db.stat().st_size // 1024) + 300) as disk:
        db = _copy(maven_db, disk)
        url = f"sqlite:///{db}"
        done = cli(["import", str(_new_reps(tmp_path / "csv", 60_000))], url)
        assert done.returncode == 5
        assert _one_line(done).startswith(f"kpibot: the disk holding the store {db} is full")
        assert _count(url, "reps") == 35
        open_store.cache_clear()


# ---------------------------------------------------------------- damaged file


def test_a_store_damaged_in_the_middle_is_one_line_exit_6(maven_db, tmp_path):
    db = _copy(maven_db, tmp_path / "bad")
    size, page = db.stat().st_size, 4096
    rnd = random.Random(8)
    with db.open("r+b") as f:  # the middle of the file: the header and schema stay readable
        for n in range(size // page * 3 // 10, size // page * 7 // 10):
            f.seek(n * page)
            f.write(rnd.randbytes(page))
    done = cli(ASK, f"sqlite:///{db}")
    assert done.returncode == 6
    line = _one_line(done)
    assert line.startswith(f"kpibot: the store {db} is damaged (database disk image is malformed): nothing was "
                           "changed")


# ---------------------------------------------------------------- PostgreSQL away


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_postgresql_is_one_line_exit_4():
    port = _closed_port()
    done = cli(ASK, f"postgresql://postgres@127.0.0.1:{port}/test")
    assert done.returncode == 4
    assert _one_line(done).startswith(f"kpibot: the PostgreSQL store at 127.0.0.1:{port}/test is unreachable")


def test_the_exit_codes_are_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n#", 1)[0]
    for code in (StoreUnavailable.exit_code, StoreNotWritable.exit_code, StoreCorrupt.exit_code):
        assert re.search(rf"^\| `{code}` \|", section, re.M), code


@pytest.fixture
def proxy(store_url):
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    url = make_url(PG_URL)
    p = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    yield p
    p.stop()


@pytest.fixture
def store(store_url, proxy):
    """The PostgreSQL store of the test, reached through `proxy` (overrides conftest's for the rig)."""
    url = make_url(store_url).set(host="127.0.0.1", port=proxy.port)
    return open_store(url.render_as_string(hide_password=False))


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_kpi_says_the_database_is_unreachable_and_recovers_when_it_is_back(make_rig, proxy, caplog):
    rig = make_rig()
    assert "Revenue" in message_text(rig.ask("revenue 2026-05"))

    proxy.stop()
    caplog.clear()
    caplog.set_level(logging.INFO)
    down = message_text(rig.ask("revenue 2026-05"))
    rid = re.search(r"request `([0-9a-f]{12})`", down).group(1)
    assert "can't be reached" in down
    logged = [r for r in caplog.records if rid in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING and not logged[0].exc_info
    assert "unreachable" in logged[0].getMessage()

    proxy.start()  # the same port: the database is back
    back = message_text(rig.ask("revenue 2026-05"))
    assert "Revenue" in back and "can't be reached" not in back


def test_a_store_in_a_missing_folder_is_named_as_such(tmp_path):
    folder = tmp_path / "missing"
    with pytest.raises(StoreError) as exc:
        open_store(f"sqlite:///{folder / 'store.db'}")
    assert str(exc.value) == (f"cannot create the store {folder / 'store.db'}: its folder {folder} does not exist. "
                              "Point DATABASE_URL at a file in an existing folder")
    assert exc.value.exit_code == 2
