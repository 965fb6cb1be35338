"""The import rules of DESIGN.md and STYLE.md, checked on the source (no import-time effects).

- ``signing``, ``payments`` and ``notifications`` are pure libraries: they never import
  ``portal``, each other, a web framework or the ORM (the sandbox payment platform, which
  stands for an outside system, may use Starlette).
- Inside ``portal``: ``web`` → ``services`` → ``models`` → ``database``; never backwards.
- Only ``portal/settings.py`` reads the environment.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("signing", "payments", "notifications")
WEB_OR_ORM = ("starlette", "sqlalchemy", "uvicorn", "alembic")
ALLOWED_WEB_IN_LIBRARY = {Path("payments/platforms/sandbox.py")}


def _python_files(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_import_no_portal_no_sibling_no_web_or_orm(library: str) -> None:
    forbidden = {"portal", *(other for other in LIBRARIES if other != library)}
    problems = []
    for path in _python_files(library):
        relative = path.relative_to(ROOT)
        for name in _imports(path):
            if _top(name) in forbidden:
                problems.append(f"{relative} imports {name}")
            if _top(name) in WEB_OR_ORM and relative not in ALLOWED_WEB_IN_LIBRARY:
                problems.append(f"{relative} imports {name}")
    assert not problems, "\n".join(problems)


LAYERS = {"models": {"portal.services", "portal.web"}, "services": {"portal.web"}}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_portal_layers_import_only_downwards(layer: str) -> None:
    problems = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _python_files(f"portal/{layer}")
        for name in _imports(path)
        if any(name == up or name.startswith(up + ".") for up in LAYERS[layer])
    ]
    assert not problems, "\n".join(problems)


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for package in ("portal", *LIBRARIES):
        for path in _python_files(package):
            if path.relative_to(ROOT) == Path("portal/settings.py"):
                continue
            source = path.read_text()
            if "os.environ" in source or "os.getenv" in source or "getenv(" in source:
                readers.append(str(path.relative_to(ROOT)))
    assert not readers, f"environment read outside portal/settings.py: {readers}"
