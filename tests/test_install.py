"""Reproducible installs: everything imported is declared, the lock file pins every declared
dependency inside its declared range, and `make` installs from it. (That the declared floors
themselves work is `make check-floors`: it needs a network and minutes, so it is not in here.)"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
# benchmark-only (pip install -e '.[bench]'): what a benchmark compares the engine with
BENCH = [Requirement(r) for r in PROJECT["optional-dependencies"].get("bench", [])]
OURS = {"kpibot", "bot", "kpi_engine", "schedules", "config", "tests", "benchmarks", "scripts", "telemetry",
        "slack_emulator", "sandbox"}


def _imported(folders: list[str]) -> dict[str, set[str]]:
    """Top-level modules imported (anywhere in a file, also inside functions) -> the files."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                         else [])
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    # scripts import their neighbours by file name (benchmarks/bench_parse.py: `from bench_kpis import …`)
    siblings = {p.stem for folder in folders for p in (ROOT / folder).rglob("*.py")}
    return {m: f for m, f in found.items() if m not in sys.stdlib_module_names and m not in OURS | siblings}


def _undeclared(folders: list[str], declared: list[Requirement]) -> dict[str, list[str]]:
    names = {canonicalize_name(r.name) for r in declared}
    dists = packages_distributions()
    missing = {}
    for module, files in _imported(folders).items():
        owners = {canonicalize_name(d) for d in dists.get(module, [module])}
        if not owners & names:
            missing[module] = sorted(files)[:3]
    return missing


def test_everything_the_packages_import_is_a_declared_dependency():
    assert _undeclared(["kpibot", "bot", "kpi_engine", "schedules", "config", "telemetry", "slack_emulator", "sandbox"],
                       RUNTIME) == {}


def test_everything_tests_benchmarks_and_scripts_import_is_declared():
    assert _undeclared(["tests", "scripts"], RUNTIME + DEV) == {}
    assert _undeclared(["benchmarks"], RUNTIME + DEV + BENCH) == {}


def _lock() -> dict[str, list[tuple[Version, str]]]:
    """requirements.lock: name -> [(version, marker)] (a name can be pinned per Python version)."""
    pins: dict[str, list[tuple[Version, str]]] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;\s*(.*))?$", line.strip())
        assert m, f"requirements.lock: not an exact pin: {line!r}"
        pins.setdefault(canonicalize_name(m.group(1)), []).append((Version(m.group(2)), m.group(3) or ""))
    return pins


def test_the_lock_pins_every_declared_dependency_inside_its_declared_range():
    pins = _lock()
    env = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
           "platform_system": "Linux", "implementation_name": "cpython", "platform_machine": "x86_64",
           "platform_python_implementation": "CPython", "os_name": "posix"}
    for req in RUNTIME + DEV:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in requirements.lock: run `make lock`"
        for version, marker in pins[name]:
            if marker and not Marker(marker).evaluate(env | {"extra": ""}):
                continue
            assert req.specifier.contains(version, prereleases=True), \
                f"requirements.lock pins {req.name}=={version}, outside {req.specifier}: run `make lock`"
        for extra in req.extras:  # psycopg[binary] -> psycopg-binary
            assert canonicalize_name(f"{req.name}-{extra}") in pins, f"{req} without its {extra} extra in the lock"


def test_floors_are_releases_that_install_on_the_supported_python():
    # A floor is checked by installing it (make check-floors); this catches the cheap mistakes first:
    # every dependency has one, and those known not to hold are not declared again.
    for req in RUNTIME + DEV:
        assert any(s.operator == ">=" for s in req.specifier), f"{req} has no floor (>=)"
    known_bad = {
        "apscheduler": SpecifierSet("<3.10.2"),  # imports pkg_resources, gone from new setuptools
        "sqlalchemy": SpecifierSet("<2.0.14"),  # sqlmodel 0.0.16 imports TryCast
        "typer": SpecifierSet("<0.15.4"),  # breaks with click 8.2+, or on `str | None` options
        "ruff": SpecifierSet("<0.13"),  # reports UP038 on this code base
        "psycopg": SpecifierSet("<3.1.4"),  # no binary wheel for Python 3.11
    }
    for req in RUNTIME + DEV:
        floor = next(Version(s.version) for s in req.specifier if s.operator == ">=")
        bad = known_bad.get(canonicalize_name(req.name))
        assert bad is None or not bad.contains(floor), f"{req}: that floor is known not to work"


def test_make_installs_from_the_lock_and_ci_runs_the_readme_test_command():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.M)
    assert "pip install -q -r $(LOCK)" in makefile and "--no-deps -e ." in makefile
    assert re.search(r"^lock:", makefile, re.M) and re.search(r"^check-floors:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lock" in readme and "make check-floors" in readme
