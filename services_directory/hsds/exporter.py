"""``hsds_export``: the directory written as HSDS JSON files.

Export writes ``organizations.json`` and ``services.json``, each a list of full nested records
(``mapping``), sorted by id, with sorted keys, so that two exports of the same directory are
byte-identical.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services_directory.hsds.mapping import (
    hsds_organization_queryset,
    hsds_service_queryset,
    organization_to_hsds,
    service_to_hsds,
)


@dataclass(frozen=True)
class ExportReport:
    path: Path
    organizations: int
    services: int


def hsds_dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def hsds_export(*, path: str | Path) -> ExportReport:
    """Write the directory to the folder ``path`` as organizations.json and services.json."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    organizations = [organization_to_hsds(org) for org in hsds_organization_queryset()]
    services = [service_to_hsds(service) for service in hsds_service_queryset()]
    # The querysets order by primary key, which is not the UUID's text order on every
    # database; sort on the text so that the files do not depend on the backend.
    organizations.sort(key=lambda record: record["id"])
    services.sort(key=lambda record: record["id"])
    (folder / "organizations.json").write_text(hsds_dumps(organizations), encoding="utf-8")
    (folder / "services.json").write_text(hsds_dumps(services), encoding="utf-8")
    return ExportReport(path=folder, organizations=len(organizations), services=len(services))
