"""`payments` is a pure library (DESIGN.md, "Packages"; STYLE.md, "Layout").

It imports no part of the portal, no other library of ours and no ORM; a web framework only in
the sandbox platform, which stands for an outside system; and importing `payments` itself
loads no web framework at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import payments

PACKAGE = Path(payments.__file__).parent
FORBIDDEN = {"portal", "signing", "notifications", "sqlalchemy", "alembic", "asyncpg", "aiosqlite"}
WEB = {"starlette", "uvicorn", "jinja2"}
SANDBOX = PACKAGE / "platforms" / "sandbox.py"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_imports_the_portal_another_library_or_an_orm() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert not _imports(path) & FORBIDDEN, path


def test_only_the_sandbox_platform_uses_a_web_framework() -> None:
    users = {path for path in PACKAGE.rglob("*.py") if _imports(path) & WEB}
    assert users == {SANDBOX}


def test_importing_payments_loads_no_web_framework() -> None:
    code = (
        "import sys, payments\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'sqlalchemy', 'portal'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
