from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from audit.verification import (
    CHUNK_SIZE,
    EXIT_CODES,
    read_checkpoint_lines,
    read_verify_key_lines,
    verify_chain,
)


class ProgressBar:
    def __init__(self, stream: Any, width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int) -> None:
        total = max(total, done, 1)
        filled = self.width * done // total
        self.stream.write(
            ending="",
            msg=f"\rverifying [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{done}/{total} ({100 * done // total}%)",
        )
        self.stream.flush()
        if done >= total:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Walk the audit chain, recompute every hash and check every checkpoint signature. "
        "Exit 0 when intact; otherwise name the first problem and exit with "
        + ", ".join(f"{code} ({kind})" for kind, code in EXIT_CODES.items())
        + "."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--from-checkpoint",
            type=Path,
            metavar="FILE",
            help="checkpoints kept by an outside party (JSON lines from export_checkpoints)",
        )
        parser.add_argument(
            "--verify-key",
            type=Path,
            metavar="FILE",
            help="verify keys kept by an outside party (JSON lines from export_verify_key); "
            "default: derived from the keyring",
        )
        parser.add_argument("--progress", action="store_true", help="progress bar on stderr")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"events read and checked at a time (default {CHUNK_SIZE:,})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        external = []
        if options["from_checkpoint"]:
            path = options["from_checkpoint"]
            external = read_checkpoint_lines(
                path.read_text().splitlines(), source=f"file {path.name}"
            )
        verify_keys = None
        if options["verify_key"]:
            verify_keys = read_verify_key_lines(options["verify_key"].read_text().splitlines())
        progress = ProgressBar(self.stderr) if options["progress"] else None
        result = verify_chain(
            external_checkpoints=external,
            verify_keys=verify_keys,
            progress=progress,
            chunk_size=options["chunk_size"],
        )
        if result.problem is not None:
            self.stderr.write(result.summary())
            raise SystemExit(EXIT_CODES[result.problem.kind])
        self.stdout.write(result.summary())
