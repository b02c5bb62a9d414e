"""The records of an HSDS import, read from one JSON file or a folder of them: each with its
kind (from the file name, else from its fields), or the reason it cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FILE_KINDS = {
    "organizations": "organization",
    "organization": "organization",
    "services": "service",
    "service": "service",
    "locations": "location",
    "location": "location",
}


def sniff_kind(record: dict[str, Any]) -> str:
    if "status" in record:
        return "service"
    if "location_type" in record:
        return "location"
    return "organization"


def hsds_read(path: Path) -> Iterator[tuple[str, Any, str | None]]:
    """(kind, record, problem) for every record under ``path``: one JSON file or a folder of
    them. A file holds one record, a list of records or an HSDS page (``contents``)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        try:
            content = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield "file", str(file), f"cannot read: {exc}"
            continue
        if isinstance(content, dict) and isinstance(content.get("contents"), list):
            content = content["contents"]
        records = content if isinstance(content, list) else [content]
        file_kind = FILE_KINDS.get(file.stem)
        for record in records:
            if not isinstance(record, dict):
                yield file_kind or "record", "?", f"{file.name}: a record must be an object"
                continue
            yield file_kind or sniff_kind(record), record, None
