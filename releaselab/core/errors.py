"""The project's errors: each says what went wrong and how to fix it.

Every stage entry turns a LabError into `error: <what>` + `fix: <how>` and exit status 2
(releaselab.core.entry); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class LabError(Exception):
    """Bad input or a failed tool. `fix` is the one-line remedy printed after the message."""

    fix = "see the message above"


class InputMissing(LabError):
    """An upstream output a stage reads is not there."""

    fix = "run `dvc repro` (it builds what is missing), then rerun this stage"


class LabOutputError(LabError):
    """A lab binary or Go tool printed something the parsers cannot use."""

    fix = "rerun `dvc repro -f build` if the binaries are stale; else run the lab by hand"
