"""The one entry contract of every stage: parse the arguments, load the config inside the error
handling, run, and turn every project error into `error:` + `fix:` lines and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from releaselab.core import config
from releaselab.core.errors import InputMissing, LabError

EXIT_BAD_INPUT = 2
Body = Callable[[argparse.Namespace, config.Config], object]


def message(err: BaseException) -> str:
    """`error: <what>` and exactly one `fix: <how>` line for a project error."""
    if isinstance(err, FileNotFoundError):
        err = InputMissing(f"{err.filename or err} is missing")
    text = str(err).rstrip()
    if any(line.startswith("fix:") for line in text.splitlines()):
        return f"error: {text}\n"
    fix = err.fix if isinstance(err, LabError) else LabError.fix
    return f"error: {text}\nfix: {fix}\n"


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run_tool(
    body: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
    *,
    args: argparse.ArgumentParser,
    err: TextIO | None = None,
) -> int:
    """Run a command-line tool body; its exit status (0 for None), or 2 after `error:`/`fix:`."""
    ns = args.parse_args(argv)
    try:
        return body(ns) or 0
    except (LabError, FileNotFoundError) as exc:
        (err or sys.stderr).write(message(exc))
        return EXIT_BAD_INPUT


def run(
    body: Body,
    argv: Sequence[str] | None = None,
    *,
    args: argparse.ArgumentParser,
    err: TextIO | None = None,
) -> int:
    """Run one stage body with the validated config (loaded inside the error handling)."""

    def with_config(ns: argparse.Namespace) -> None:
        body(ns, config.load())

    return run_tool(with_config, argv, args=args, err=err)
