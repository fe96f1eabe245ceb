"""The question grammar's regular expressions, compiled once per machine instead of once per process.

`kpibot ask` is a new process per question, and turning the grammar's patterns (the period grammar's
filter alone is 10k characters) into the regex engine's code was a fifth of its start: Python's
`re` parses and compiles a pattern in Python code. What that produces is plain data (a list of
integers, the group names), so it is kept in `$XDG_CACHE_HOME/kpibot` and handed to `_sre.compile`
as `re` itself hands it, in the next process.

Safe by construction: the file is keyed by the interpreter's exact version and the regex engine's
magic number, read only if this user wrote it and nobody else may change it (as the config cache,
config/user_cache.py), and checked again by the regex engine itself, which refuses code it cannot run
(`_sre.compile` validates it). Anything unexpected, in reading or compiling, falls back to
`re.compile`; a pattern compiled that way is added to the file for next time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
import threading
from array import array
from pathlib import Path
from typing import Any

from config.user_cache import cache_dir, read_own

try:  # CPython's regex engine and the compiler `re` uses (3.11 names)
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - another Python: plain re.compile
    _sre = None  # type: ignore[assignment]

_Args = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]
_lock = threading.Lock()
_known: dict[tuple[str, int], _Args] | None = None
_used: set[tuple[str, int]] = set()
_added = False
_MAX_KEPT = 256  # the grammar compiles a few dozen patterns; more means many versions' leftovers


def _file() -> Path | None:
    folder = cache_dir()
    if _sre is None or folder is None:
        return None
    stamp = f"{sys.version}|{sys.implementation.cache_tag}|{_sre.MAGIC}|{_sre.CODESIZE}|{_sre.MAXGROUPS}|{array('I').itemsize}"
    return folder / f"regex-{hashlib.sha256(stamp.encode()).hexdigest()[:24]}.marshal"


def _load() -> dict[tuple[str, int], _Args]:
    path = _file()
    if path is None:
        return {}
    try:
        got = marshal.loads(read_own(path))
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return got if isinstance(got, dict) else {}


def _args(pattern: str, flags: int) -> _Args:
    """What re._compiler.compile passes to _sre.compile (CPython 3.11-3.13)."""
    p = _parser.parse(pattern, flags)
    code = _compiler._code(p, flags)
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    # the code as bytes of 32-bit words (the engine's CODESIZE): marshal reads a list of 20,000 ints
    # one object at a time, ~20x slower
    return (int(flags | p.state.flags), array("I", code).tobytes(), p.state.groups - 1, groupindex,
            tuple(indexgroup))


def _build(pattern: str, args: _Args) -> re.Pattern:
    flags, code, groups, groupindex, indexgroup = args
    words = array("I")
    words.frombytes(code)
    return _sre.compile(pattern, flags, words.tolist(), groups, groupindex, indexgroup)


def compile(pattern: str, flags: int = 0) -> re.Pattern:  # noqa: A001 - re.compile's name, on purpose
    global _known, _added
    flags = int(flags)
    if _sre is None:
        return re.compile(pattern, flags)
    key = (pattern, flags)
    with _lock:
        if _known is None:
            _known = _load()
        got = _known.get(key)
        _used.add(key)
    if got is not None:
        try:
            return _build(pattern, got)
        except Exception:  # noqa: BLE001 - not what this engine runs: compile it afresh below
            pass
    try:
        args = _args(pattern, flags)
        rx = _build(pattern, args)
    except re.error:
        raise
    except Exception:  # noqa: BLE001 - the compiler changed its insides: re.compile still works
        return re.compile(pattern, flags)
    with _lock:
        _known[key] = args
        _added = True
    return rx


def save() -> None:
    """Keep what this process compiled for the next one (a process that added nothing writes nothing)."""
    global _added
    path = _file()
    with _lock:
        if not _added or path is None or _known is None:
            return
        data: Any = dict(_known) if len(_known) <= _MAX_KEPT else {k: _known[k] for k in _used if k in _known}
        _added = False
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as fh:
            marshal.dump(data, fh)
        os.replace(tmp, path)  # whole or not at all: a reader never sees half a file
        for other in path.parent.glob("regex-*.marshal"):  # another interpreter's, no longer read
            if other != path:
                other.unlink(missing_ok=True)
    except (OSError, ValueError):  # a cache: without it the next start compiles again
        try:
            tmp.unlink()
        except OSError:
            pass
