"""Helpers of scripts/check-floors.

    python scripts/floors.py pyproject.toml   each dependency (dev extra included) pinned at its floor
    python scripts/floors.py --import-all     import every module of the packages (a floor too old fails)
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import tomllib
from pathlib import Path

PACKAGES = ("kpibot", "bot", "kpi_engine", "schedules", "config")
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("dev", []))
    out = []
    for req in reqs:
        m = _REQ.match(req.split(";")[0])
        if not m:
            raise SystemExit(f"cannot read the requirement {req!r}")
        name, spec = m.group(1), m.group(3)
        low = re.search(r">=\s*([^,\s]+)", spec)
        if low:
            out.append(f"{name}=={low.group(1)}")
    return out


def import_all() -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    count = 0
    for pkg in PACKAGES:
        importlib.import_module(pkg)
        for info in pkgutil.walk_packages([str(root / pkg)], prefix=f"{pkg}."):
            if ".migrations" in info.name:
                continue  # alembic runs these with its own context
            importlib.import_module(info.name)
            count += 1
    print(f"imported {count} modules")


if __name__ == "__main__":
    if sys.argv[1:] == ["--import-all"]:
        import_all()
    else:
        print("\n".join(floors(Path(sys.argv[1]))))
