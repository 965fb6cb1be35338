"""The package's shape: a pure library with a deliberate public surface.

Proves: no module of `notifications` imports the portal, the other libraries, Starlette or
SQLAlchemy, neither in its source nor at run time (DESIGN.md, "Packages"); every module says
what it owns in a docstring; every name in `__all__` exists.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import notifications

PACKAGE = Path(notifications.__file__).parent
FORBIDDEN = ("portal", "signing", "payments", "starlette", "sqlalchemy")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_forbidden_imports_in_the_source() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_importing_the_package_loads_nothing_forbidden() -> None:
    probe = (
        "import sys, notifications; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        cwd=PACKAGE.parent,
    )
    assert loaded.stdout.strip() == "[]"


def test_every_module_has_a_docstring() -> None:
    for path in _modules():
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), path.name


def test_public_names_exist() -> None:
    for name in notifications.__all__:
        assert hasattr(notifications, name), name
