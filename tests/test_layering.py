"""DESIGN.md's layers: wire and console never import store; core imports nothing above it; services
and core import at module level only, so every dependency between modules is visible at the top."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "rolehop"
# pure libraries only: crypto primitives, and orjson for the audit trail's canonical JSON (no I/O)
CORE_ALLOWED = {"rolehop.core", "cryptography", "orjson"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_wire_and_console_never_import_store() -> None:
    for package in ("wire", "console"):
        for path in modules(package):
            bad = {n for n in imports_of(path) if n.startswith(("rolehop.store", "sqlalchemy", "alembic"))}
            assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_services_reach_storage_only_through_ports() -> None:
    for path in modules("services"):
        bad = {n for n in imports_of(path) if n.startswith(("rolehop.store", "sqlalchemy", "alembic"))}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_services_count_through_the_meter_port_only() -> None:
    """Metrics are the edge's business (rolehop.metrics); services say what happened through
    services/ports/meter.py."""
    for path in modules("services"):
        bad = {n for n in imports_of(path) if n.startswith(("prometheus_client", "rolehop.metrics"))}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_core_imports_only_stdlib_and_pure_libraries() -> None:
    stdlib = sys.stdlib_module_names
    for path in modules("core"):
        for name in imports_of(path):
            top = name.split(".")[0]
            ok = top in stdlib or top == "__future__" or any(name.startswith(a) for a in CORE_ALLOWED)
            assert ok, f"{path.relative_to(SRC)} imports {name}"


def function_level_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{path.relative_to(SRC)}:{inner.lineno} {ast.unparse(inner)}")
    return found


def test_services_and_core_import_at_module_level_only() -> None:
    """An import inside a function hides a dependency that points the wrong way or a cycle."""
    found = [
        hit
        for package in ("services", "core")
        for path in modules(package)
        for hit in function_level_imports(path)
    ]
    assert not found, "\n".join(found)


def test_services_packages_say_what_they_hold() -> None:
    for init in (SRC / "services").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 10, f"{init.relative_to(SRC)} needs a docstring listing what it holds"


MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "bytearray"}
MUTABLE_LITERALS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def module_level_mutables(path: Path) -> list[str]:
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            called = value.func.id if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) else ""
            if isinstance(value, MUTABLE_LITERALS) or called in MUTABLE_CALLS:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {ast.unparse(node)[:60]}")
    return found


def test_services_keep_no_module_level_mutable_state() -> None:
    """State lives in Runtime (its caches are listed in pipeline/caches.py); constants are tuples or
    MappingProxyType. The operation registry is the one exception."""
    found = [hit for path in modules("services") for hit in module_level_mutables(path)]
    assert found == ["services/pipeline/registry.py:16 OPERATIONS: dict[tuple[str, str], Handler] = {}"]
