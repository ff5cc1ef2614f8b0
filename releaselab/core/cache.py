"""Where installed toolchains and Go's own caches live: outside the repo and outside DVC's cache."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GO_RELEASE_LAB_CACHE"


def cache_root() -> Path:
    """$GO_RELEASE_LAB_CACHE, else $XDG_CACHE_HOME/go-release-lab, else ~/.cache/go-release-lab."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "go-release-lab").resolve()
