"""The settings and the config as `kpibot ask` reads them at start, without pydantic.

Importing pydantic and building the config's model classes costs a fresh process ~115 ms, and
pydantic-settings (with asyncio under it) ~45 ms more: most of what a one-question command spends
before it answers. So:

- `store_settings()` reads DATABASE_URL and KPIBOT_CONFIG from the environment the way
  `config.settings.get_settings()` does, and hands over to it wherever doing the same by hand
  would not be certain (a .env file, a name set in two cases, a blank value, a PORT pydantic
  might refuse): a mistake there is still reported by pydantic, word for word.
- `quick_config()` validates a config file with the pydantic models once, and keeps the result
  in the user's cache folder keyed by the file's bytes and by the code that validates it (stat
  of config/ and kpi_engine/, the installed pydantic and apscheduler). The next start with the
  same file reads that instead: a read-only copy with the same attributes (`ConfigView`). A file
  never validated, or changed since, goes through the models, so its mistakes are reported as
  before; a config whose values JSON cannot hold exactly is simply not kept.

Only the `ask` start path uses these; everything else calls get_settings()/get_config(). It lives
with the command line, not in config/, because checking a config needs the KPI catalogue
(kpi_engine.config_check), and config/ sits below kpi_engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.user_cache import cache_dir, read_own

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_PATH = ROOT / "config" / "default.toml"

# the fields of config.settings.Settings, lowercased as pydantic-settings reads them (case-insensitive)
_SETTINGS = {"database_url", "kpibot_config", "slack_bot_token", "slack_signing_secret", "slack_app_token",
             "slack_api_base_url", "host", "port"}
# the code a validation result depends on: the models, the names check, the catalogue it checks against
_CODE_DIRS = (ROOT / "config", ROOT / "kpi_engine")
_LIBS = ("pydantic", "pydantic_core", "apscheduler")
# a cache entry a version of the format below cannot read is another file, never misread
_FORMAT = "1"
_KEEP = 32  # entries kept; older ones are removed when a new one is written


class StoreSettings:
    """The two settings `ask` needs, read like Settings reads them."""

    __slots__ = ("database_url", "kpibot_config")

    def __init__(self, database_url: str, kpibot_config: Path | None):
        self.database_url = database_url
        self.kpibot_config = kpibot_config


def _plain_port(v: str) -> bool:
    return v.isascii() and v.isdigit() and len(v) <= 5 and int(v) <= 65535


def store_settings() -> Any:
    """StoreSettings, or get_settings() itself (with its errors) where the environment is not plain."""
    if os.path.lexists(".env"):  # pydantic-settings reads it from the working folder
        return _full_settings()
    found: dict[str, str] = {}
    for k, v in os.environ.items():
        low = k.lower()
        if low in _SETTINGS:
            if low in found or not v.strip():  # which one wins, or what a blank means, is Settings' to say
                return _full_settings()
            found[low] = v
    port = found.get("port")
    if port is not None and not _plain_port(port):
        return _full_settings()
    cfg = found.get("kpibot_config")
    return StoreSettings(found.get("database_url", "sqlite:///kpibot.db"), Path(cfg) if cfg else None)


def _full_settings() -> Any:
    from config.settings import get_settings

    return get_settings()


# ---------------------------------------------------------------------- the config


class ConfigView:
    """A validated config model's fields as read-only attributes (sub-models are views too)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]):
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        if name == "_fields":  # not set yet (an object made without __init__): never recurse
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a config read at start is read-only")

    def __reduce__(self) -> tuple:
        # copy and pickle rebuild it from its fields (setting attributes one by one is refused)
        return (type(self), (self._fields,))

    def model_dump(self) -> dict[str, Any]:
        return {k: _dump(v) for k, v in self._fields.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._fields.items())})"


class AppConfigView(ConfigView):
    """config.app_config.AppConfig, read from the cache: the same fields and `tz`."""

    __slots__ = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self._fields["timezone"])


def _dump(v: Any) -> Any:
    if isinstance(v, ConfigView):
        return v.model_dump()
    if isinstance(v, dict):
        return {k: _dump(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dump(x) for x in v]
    return v


class _NotPlain(Exception):
    """A value JSON would not give back as it was (a tuple, a Path, a SecretStr…)."""


def encode(value: Any) -> Any:
    """A validated model as JSON: {"m": fields} for a model, {"d": items} for a dict, lists and
    scalars as they are."""
    from pydantic import BaseModel

    def enc(v: Any) -> Any:
        if isinstance(v, BaseModel):
            return {"m": {k: enc(getattr(v, k)) for k in type(v).model_fields}}
        if type(v) is dict:
            if not all(type(k) is str for k in v):
                raise _NotPlain(v)
            return {"d": {k: enc(x) for k, x in v.items()}}
        if type(v) is list:
            return [enc(x) for x in v]
        if v is None or type(v) in (str, int, float, bool):
            return v
        raise _NotPlain(v)

    return enc(value)


def decode(data: Any, top: bool = True) -> Any:
    if isinstance(data, dict):
        (tag, body), = data.items()
        if tag == "m":
            fields = {k: decode(x, False) for k, x in body.items()}
            return AppConfigView(fields) if top else ConfigView(fields)
        return {k: decode(x, False) for k, x in body.items()}
    if isinstance(data, list):
        return [decode(x, False) for x in data]
    return data


def _code_stamp() -> bytes:
    """What a validation result depends on besides the file: changes with any edit or reinstall."""
    from importlib.util import find_spec

    parts = [_FORMAT, sys.version]
    for d in _CODE_DIRS:
        for e in sorted(os.scandir(d), key=lambda e: e.name):
            if e.name.endswith((".py", ".toml")):
                st = e.stat()
                parts.append(f"{e.path}:{st.st_mtime_ns}:{st.st_size}")
    st = os.stat(__file__)  # this module's own encoding of the kept copy
    parts.append(f"{__file__}:{st.st_mtime_ns}:{st.st_size}")
    for lib in _LIBS:
        spec = find_spec(lib)
        origin = spec.origin if spec else None
        if origin:
            st = os.stat(origin)
            parts.append(f"{origin}:{st.st_mtime_ns}:{st.st_size}")
        else:
            parts.append(f"{lib}:-")
    return "\n".join(parts).encode()


def quick_config(path: Path | None) -> Any:
    """The checked config (config_check.get_config's), from the cache when this file was validated
    before; else validated now (its ConfigError raised as ever) and kept for the next start."""
    p = path if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = p.read_bytes()
    except OSError:
        raw = None  # the loader says what is wrong with it, as ever
    cache = cache_dir()
    entry = None
    if raw is not None and cache is not None:
        key = hashlib.sha256(_code_stamp() + b"\0" + raw).hexdigest()
        entry = cache / f"config-{key}.json"
        try:
            view = decode(json.loads(read_own(entry)))
            ZoneInfo(view.timezone)  # the zone was known when validated; the tz database may have changed
            return view
        except Exception:  # noqa: BLE001 - no entry, or one unreadable: validate the file instead
            pass
    from kpi_engine.config_check import load_config

    cfg = load_config(path)
    if entry is not None and _unchanged(p, raw):  # what was validated is what the key names
        _keep(entry, cfg)
    return cfg


def _unchanged(p: Path, raw: bytes) -> bool:
    try:
        return p.read_bytes() == raw
    except OSError:
        return False


def _keep(entry: Path, cfg: Any) -> None:
    try:
        text = json.dumps(encode(cfg), ensure_ascii=False)
    except _NotPlain:
        return
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, entry)
        old = sorted(entry.parent.glob("config-*.json"), key=lambda f: f.stat().st_mtime)[:-_KEEP]
        for f in old:
            f.unlink(missing_ok=True)
    except OSError:  # a read-only or full home: validate each time, as before
        pass
