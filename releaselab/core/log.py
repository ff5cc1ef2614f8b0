"""Progress and messages for long stages: one line per step on stderr, with elapsed time."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape

_console = Console(stderr=True, highlight=False, soft_wrap=True)
_start = time.monotonic()


def info(message: str) -> None:
    """One progress line, prefixed with seconds since the process started."""
    _console.print(f"[dim]{time.monotonic() - _start:7.1f}s[/dim] {escape(message)}", markup=True)


def warn(message: str) -> None:
    _console.print(f"[yellow]warning:[/yellow] {escape(message)}", markup=True)
