"""The sandbox stands alone: it imports nothing from the rest of sellerbridge."""

from __future__ import annotations

import ast
from pathlib import Path

import sellerbridge.sandbox

SANDBOX = Path(sellerbridge.sandbox.__file__).parent


def test_the_sandbox_imports_only_itself_from_sellerbridge() -> None:
    offenders: list[str] = []
    for path in sorted(SANDBOX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders.extend(
                f"{path.name}: {name}"
                for name in names
                if name.startswith("sellerbridge") and not name.startswith("sellerbridge.sandbox")
            )
    assert offenders == []
