"""The per-user cache folder that start-up caches share (the checked config, the grammar's compiled
patterns), and the one rule for reading from it.

A cache only saves work: what it holds must never change an answer. So an entry is read only if
this user wrote it and nobody else could have (an XDG_CACHE_HOME on a shared disk must not decide
what the config says or which code the regex engine runs), and every writer makes its folder 0700
and its files 0600.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/kpibot` (default `~/.cache/kpibot`), or None without a usable home."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # expanduser left "~": keep nothing rather than write to the cwd
        return None
    return Path(base) / "kpibot"


def read_own(entry: Path) -> bytes:
    """The entry's bytes, if this user owns it and no one else may write it; else PermissionError
    (and OSError as open raises it)."""
    with open(entry, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            raise PermissionError(entry)
        return fh.read()
