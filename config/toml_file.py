"""Reading a TOML file a person wrote (the config, a mapping) with every way it can be unreadable
turned into one line naming the file: missing, a folder, no permission, not UTF-8, not TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: Path, error: type[Exception], what: str, name: str | None = None) -> dict:
    """The parsed file; `error(message)` when it cannot be read. `what` says what it is ("config
    file"); `name` is how a TOML mistake names it (default: its path)."""
    name = name or str(path)
    try:
        # utf-8-sig: Windows editors save a byte order mark, which TOML would refuse as a statement
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise error(f"{what} {path} not found") from exc
    except IsADirectoryError as exc:
        raise error(f"cannot read the {what} {path}: it is a folder, not a TOML file") from exc
    except OSError as exc:
        raise error(f"cannot read the {what} {path} ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the {what} "
                    f"as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{name}: not valid TOML: {exc}") from exc
