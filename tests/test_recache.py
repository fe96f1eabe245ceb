"""Compiled patterns kept between processes (kpi_engine/recache.py): the same Pattern as re.compile's
(CPython compares patterns by their compiled code), read back from the file by the next process,
and a file that is not ours or not readable is ignored."""

from __future__ import annotations

import importlib
import os
import re

import pytest

from kpi_engine import period_grammar, recache

PATTERNS = [(p, 0) for p, _ in period_grammar._PATTERNS[:12]] + [
    (r"(?P<word>[a-z]+) (?P=word)", 0), ("ยอด ?ขาย|revenue", re.IGNORECASE), (r"\bq([1-4])\b", re.MULTILINE)]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """recache as a new process finds it, with its file under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def new_process():
        return importlib.reload(recache)

    yield new_process
    importlib.reload(recache)


def test_the_same_pattern_as_re_compile_first_and_from_the_file(fresh):
    first = fresh()
    made = [first.compile(p, f) for p, f in PATTERNS]
    assert made == [re.compile(p, f) for p, f in PATTERNS]
    first.save()
    path = first._file()
    assert path is not None and path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"

    second = fresh()
    again = [second.compile(p, f) for p, f in PATTERNS]
    assert again == made
    assert second._added is False  # every one came from the file
    assert again[12].match("north north").group("word") == "north"
    assert again[13].search("ยอดขาย") and again[13].search("REVENUE")
    before = path.stat().st_mtime_ns
    path.touch()
    os.utime(path, ns=(before - 10**9, before - 10**9))
    second.save()  # nothing new: the file is left as it was
    assert path.stat().st_mtime_ns == before - 10**9


def test_a_file_others_may_write_or_that_is_damaged_is_not_read(fresh):
    first = fresh()
    first.compile(*PATTERNS[0])
    first.save()
    path = first._file()
    os.chmod(path, 0o666)
    second = fresh()
    assert second.compile(*PATTERNS[0]) == re.compile(*PATTERNS[0])
    assert second._added is True  # compiled again: the file was not trusted

    path.write_bytes(b"\x00not marshal data")
    os.chmod(path, 0o600)
    third = fresh()
    assert third.compile(*PATTERNS[1]) == re.compile(*PATTERNS[1])
    third.save()  # replaced by a good one
    fourth = fresh()
    assert fourth.compile(*PATTERNS[1]) == re.compile(*PATTERNS[1]) and fourth._added is False


def test_an_entry_the_engine_refuses_is_compiled_afresh(fresh):
    first = fresh()
    first.compile(*PATTERNS[2])
    key = (PATTERNS[2][0], 0)
    flags, code, groups, gi, ig = first._known[key]
    first._known[key] = (flags, b"\xff\xff\xff\xff" * 3, groups, gi, ig)  # code the engine cannot run
    first._added = True
    first.save()
    second = fresh()
    assert second.compile(*PATTERNS[2]) == re.compile(*PATTERNS[2])


def test_a_bad_pattern_is_re_error_as_ever(fresh):
    with pytest.raises(re.error):
        fresh().compile("(unclosed")
