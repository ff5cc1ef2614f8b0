"""What a host is: its label and its fingerprint (CPU, cores, kernel, GOAMD64/GOARM64 level,
cpufreq governor, turbo), the `hosts` dataset's one row per machine.

A Go release can regress on one microarchitecture and not another, so every measured dataset is
keyed by host and comparisons never cross hosts. The pure parsers take file contents, so they
are tested on captured /proc and /sys text of other machines; `fingerprint()` reads this one.
"""

from __future__ import annotations

import os
import platform
import re
import socket
from collections.abc import Mapping
from pathlib import Path

HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# GOAMD64 microarchitecture levels (x86-64 psABI), as /proc/cpuinfo names the features:
# `pni` is SSE3, `abm` carries LZCNT. The go command accepts v1..v4
# (https://go.dev/wiki/MinimumRequirements#amd64).
_AMD64_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("v2", frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"})),
    ("v3", frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"})),
    ("v4", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})),
)


def label(configured: str = "") -> str:
    """The host label: the configured one, else this machine's short hostname."""
    return configured or socket.gethostname().split(".")[0] or "localhost"


def label_problem(value: str) -> str | None:
    """Why value cannot be a host label (it is a partition value in paths), or None."""
    if value and not HOST_RE.match(value):
        return f"host {value!r} must match {HOST_RE.pattern} (letters, digits, '.', '_', '-')"
    return None


def cpuinfo_fields(text: str) -> dict[str, str]:
    """The first processor's `key : value` lines of /proc/cpuinfo."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if out:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def goamd64_level(flags: str) -> str:
    """The highest GOAMD64 level the CPU flags satisfy (v1 is every x86-64)."""
    have = set(flags.split())
    level = "v1"
    for name, needs in _AMD64_LEVELS:
        if not needs <= have:
            break
        level = name
    return level


def goarm64_level(features: str) -> str:
    """GOARM64 level from /proc/cpuinfo `Features`: v8.1 needs LSE atomics, else v8.0."""
    return "v8.1" if "atomics" in features.split() else "v8.0"


def cpu_model(fields: Mapping[str, str]) -> str:
    for key in ("model name", "Model", "Hardware", "cpu model"):
        if fields.get(key):
            return fields[key]
    # arm64 cpuinfo names no model: implementer and part number identify it
    if "CPU implementer" in fields:
        return f"arm64 implementer {fields['CPU implementer']} part {fields.get('CPU part', '?')}"
    return platform.processor() or "unknown"


def turbo_state(no_turbo: str | None, boost: str | None) -> str:
    """on/off from intel_pstate/no_turbo or cpufreq/boost; unknown where neither is readable
    (virtual machines and containers usually hide both)."""
    if no_turbo is not None and no_turbo.strip() in {"0", "1"}:
        return "off" if no_turbo.strip() == "1" else "on"
    if boost is not None and boost.strip() in {"0", "1"}:
        return "on" if boost.strip() == "1" else "off"
    return "unknown"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def _mem_bytes(meminfo: str | None) -> int:
    m = re.search(r"^MemTotal:\s+(\d+) kB", meminfo or "", re.M)
    return int(m[1]) * 1024 if m else 0


def fingerprint(configured: str = "") -> dict[str, str | int]:
    """This machine as one row of the `hosts` dataset."""
    fields = cpuinfo_fields(_read("/proc/cpuinfo") or "")
    arch = platform.machine()
    amd64 = arch in {"x86_64", "AMD64"}
    arm64 = arch in {"aarch64", "arm64"}
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    return {
        "host": label(configured),
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(fields),
        "cores": os.cpu_count() or 0,
        "mem_bytes": _mem_bytes(_read("/proc/meminfo")),
        "kernel": platform.release(),
        "os": platform.system().lower(),
        "arch": arch,
        "goamd64": goamd64_level(fields.get("flags", "")) if amd64 else "",
        "goarm64": goarm64_level(fields.get("Features", "")) if arm64 else "",
        "governor": governor.strip() if governor else "unknown",
        "turbo": turbo_state(
            _read("/sys/devices/system/cpu/intel_pstate/no_turbo"),
            _read("/sys/devices/system/cpu/cpufreq/boost"),
        ),
    }


def metadata(configured: str = "") -> dict[str, str]:
    """The fingerprint as Parquet key-value metadata (every file says where it was measured)."""
    fp = fingerprint(configured)
    return {
        "host": str(fp["host"]),
        "cpu_model": str(fp["cpu_model"]),
        "cores": str(fp["cores"]),
        "os": platform.platform(),
    }
