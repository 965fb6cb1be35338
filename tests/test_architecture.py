"""The import rules of README "Layout", executable: ``lint-imports`` (contracts in
pyproject.toml, run by ``make lint``) keeps the real tree to them, and these tests show that a
deliberately wrong import breaks the contract that forbids it; only ``portal/settings.py``
reads the environment; no production code relies on ``assert``; nothing cites the issue
tracker by number; and ``tests/`` mirrors the packages (the rule is in tests/conftest.py).

The wrong imports are made in a copy of the packages under ``tmp_path``, which the copy's
``lint-imports`` sees first on ``PYTHONPATH``; the working tree is never touched.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "signing", "payments", "notifications")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "500"}  # a contract's name on one line
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# Each: the file that gets the wrong import, the import, and the contract it breaks.
WRONG_IMPORTS = {
    "library imports the portal": (
        "signing/report.py", "import portal.errors", "they never import the portal"),
    "library imports a sibling": (
        "payments/money.py", "import notifications.messages", "never import each other"),
    "library imports the ORM": (
        "notifications/retry.py", "import sqlalchemy", "neither HTTP frameworks nor the ORM"),
    "models import services (upwards)": (
        "portal/models/cases.py", "import portal.services.cases", "portal: composition root"),
    "services import the web edge": (
        "portal/services/fines.py", "from portal.web import rendering", "portal: composition root"),
    "logging imports the web edge": (
        "portal/logs.py", "import portal.web.request_context", "portal: composition root"),
    "dev identity provider imports the web edge": (
        "portal/dev_idp/provider.py", "import portal.web.rendering", "portal: composition root"),
    "cases import publicity (independent siblings)": (
        "portal/cases/codes.py", "import portal.publicity.masking", "portal: composition root"),
    "a domain rule reads the ORM": (
        "portal/legal_calendar.py", "import sqlalchemy", "plain functions on values"),
    "a document queries": (
        "portal/documents/service_receipt.py", "import portal.services.cases", "render the values"),
}


@pytest.mark.parametrize("case", sorted(WRONG_IMPORTS))
def test_a_wrong_import_breaks_its_contract(case: str, tmp_path: Path) -> None:
    relative, line, contract = WRONG_IMPORTS[case]
    tree = _copy(tmp_path)
    _append(tree / relative, line)
    result = _lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
    broken = [text for text in result.stdout.splitlines() if "BROKEN" in text]
    assert len(broken) == 1 and contract in broken[0], result.stdout


def test_a_root_module_outside_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    """A new module directly under ``portal`` must be given its place in the layers."""
    tree = _copy(tmp_path)
    (tree / "portal" / "helpers.py").write_text('"""Somewhere."""\n')
    result = _lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert "portal.helpers" in result.stdout


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT) == Path("portal/settings.py"):
                continue
            source = path.read_text()
            if "os.environ" in source or "os.getenv" in source or "getenv(" in source:
                readers.append(str(path.relative_to(ROOT)))
    assert not readers, f"environment read outside portal/settings.py: {readers}"


def test_production_code_has_no_assert() -> None:
    """``python -O`` removes every ``assert``: a check that must hold in production raises a
    named exception instead, and one that only narrows a type for mypy is a ``typing.cast``."""
    asserts = [f"{path.relative_to(ROOT)}:{node.lineno}"
               for package in PACKAGES
               for path in sorted((ROOT / package).rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(), str(path)))
               if isinstance(node, ast.Assert)]
    assert not asserts, f"assert statements in production code: {asserts}"


TRACKER_CITATION = re.compile(r"\bissues?\s+#?\d", re.IGNORECASE)
CITATION_FREE = (*PACKAGES, "migrations", "bench", "tests")


def test_nothing_cites_the_issue_tracker() -> None:
    """A reader of the repository cannot look up the tracker's numbers: code, migrations,
    benches and tests name the rule instead (a LAW.md article, a SECURITY.md id) or say the
    requirement in plain words."""
    citations = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in CITATION_FREE
                 for path in sorted((ROOT / folder).rglob("*"))
                 if path.is_file() and "__pycache__" not in path.parts
                 and path.suffix in {".py", ".html", ".md", ".txt", ".toml", ".ini", ".sql", ".js", ".css"}
                 for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
                 if TRACKER_CITATION.search(line)]
    assert not citations, f"tracker issue numbers cited: {citations}"


def _test_modules_imported(source: str) -> list[str]:
    """The ``test_*`` modules that ``source`` imports: a test module is run by pytest, not
    imported, so what two test modules share lives in a factories module, a conftest or
    tests/identities.py and tests/builders.py."""
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
            imported += [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in imported
            if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")]


@pytest.mark.parametrize("source", [
    "from tests.portal.web.api.test_cases_api import NEW_CASE",
    "from tests.portal.web import test_case_pages",
    "import tests.portal.test_legal_calendar",
])
def test_an_import_of_a_test_module_is_found(source: str) -> None:
    assert _test_modules_imported(source)


def test_no_test_module_imports_another() -> None:
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for path in sorted((ROOT / "tests").rglob("*.py"))
                 for name in _test_modules_imported(path.read_text())]
    assert not offenders, f"imports of test modules: {offenders}"


# Suites by kind: each drives the whole portal (chromium; several processes and servers) with
# fixtures of its own, so its tests cut across every package instead of mirroring one.
SUITES_BY_KIND = ("browser", "cluster")


def _unmirrored_test_dirs(tests: Path, root: Path) -> list[str]:
    """Directories under ``tests`` that hold Python files but are no package's twin: the
    package ``root/<same path>`` does not exist. Directories of data only (a corpus, a script
    in another language) are not test packages and are not asked to mirror anything."""
    return [str(folder.relative_to(tests))
            for folder in sorted(tests.rglob("*"))
            if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
            and folder.relative_to(tests).parts[0] not in SUITES_BY_KIND
            and not (root / folder.relative_to(tests) / "__init__.py").is_file()]


def test_every_test_directory_mirrors_a_package() -> None:
    unmirrored = _unmirrored_test_dirs(ROOT / "tests", ROOT)
    assert not unmirrored, f"test directories without a package of that path: {unmirrored}"


@pytest.mark.parametrize("folder", [
    "portal/rights",            # an area, not a package: its tests go where its code is
    "portal/web/pages/login",   # deeper than the package tree
    "portal/legal_calendar",    # a module, whose tests are tests/portal/test_legal_calendar.py
    "webapp",                   # no such top-level package
])
def test_a_misplaced_test_directory_is_found(folder: str, tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    for kept in ("portal/web/pages", "browser/anything", "portal/web/oidc_provider", folder):
        (tests / kept).mkdir(parents=True, exist_ok=True)
    (tests / "portal/web/pages/test_home.py").touch()
    (tests / "browser/anything/test_journey.py").touch()
    (tests / "portal/web/oidc_provider/server.mjs").touch()
    (tests / folder / "test_misplaced.py").touch()
    assert _unmirrored_test_dirs(tests, ROOT) == [folder]
