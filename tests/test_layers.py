"""The layer rule of DESIGN.md, checked on the source: ``core`` <- ``audit`` <-
``services_directory`` <- ``referral`` <- ``coordination``; ``config`` wires them.

An app's modules import only from its own layer and the ones below; ``core`` imports none of
the project's apps. Migrations are left out: a migration may name another app's migration
as a dependency (moving a table does), which is not an import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LAYERS = ["core", "audit", "services_directory", "referral", "coordination"]
PROJECT = {*LAYERS, "config"}


def imported_packages(path: Path) -> set[str]:
    """The project's top-level packages a module imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in PROJECT)
    return found


def modules_of(app: str) -> list[Path]:
    return [p for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.parts]


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_imports_a_layer_above_it(app):
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - allowed)
        for path in modules_of(app)
    }
    assert {path: names for path, names in upward.items() if names} == {}


def test_core_imports_no_app_of_the_project():
    assert {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - {"core"})
        for path in modules_of("core")
        if imported_packages(path) - {"core"}
    } == {}


def test_shared_plumbing_lives_only_in_core():
    """Errors, Idempotency-Key, paging and parameters have one home; no shim elsewhere."""
    for moved in [
        "audit/errors.py",
        "config/api_errors.py",
        "services_directory/idempotency.py",
        "services_directory/api/pagination.py",
        "services_directory/api/params.py",
        "services_directory/hsds.py",  # now services_directory/hsds/: mapping, import, export
        "coordination/flows.py",  # now coordination/flows/: counts, live, rollup read, report
    ]:
        assert not (ROOT / moved).exists(), moved
    for module in ["errors", "idempotency", "api/pagination", "api/params", "api/errors"]:
        assert (ROOT / "core" / f"{module}.py").exists(), module


def test_audit_services_do_not_import_their_tasks():
    """The checkpoint task calls the service; the service queues the task by name."""
    services = ast.parse((ROOT / "audit" / "services.py").read_text())
    imported = {
        node.module
        for node in ast.walk(services)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "audit.tasks" not in imported
