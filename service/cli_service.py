"""CLI commands of the HTTP service (serve, keys). Filled in by the API work (issue 4)."""

from __future__ import annotations

from typing import Any


def add_service_commands(sub: Any) -> None:
    """Register the service's subcommands on the `stagecheck` parser."""
