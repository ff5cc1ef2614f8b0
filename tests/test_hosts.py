"""The host fingerprint: GOAMD64 level from real /proc/cpuinfo text, checked against what a Go
binary built for that level says on this CPU; turbo and label rules; the `hosts` row."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from releaselab.core import catalog, config, gocmd, hosts, store

DATA = Path(__file__).parent / "data" / "hosts"
EPYC = (DATA / "cpuinfo-amd-epyc-2core.txt").read_text(encoding="utf-8")


def _flags(text: str) -> str:
    return hosts.cpuinfo_fields(text)["flags"]


def test_cpuinfo_fields_are_the_first_processors() -> None:
    fields = hosts.cpuinfo_fields(EPYC + "\nprocessor\t: 1\nmodel name\t: other\n")
    assert fields["model name"] == "AMD EPYC"
    assert fields["processor"] == "0"


def test_avx512_epyc_is_goamd64_v4() -> None:
    assert hosts.goamd64_level(_flags(EPYC)) == "v4"


def test_a_missing_avx512_feature_caps_the_level_at_v3() -> None:
    assert hosts.goamd64_level(_flags(EPYC).replace("avx512vl", "")) == "v3"


def test_no_avx2_is_v2_and_no_sse4_2_is_v1() -> None:
    flags = _flags(EPYC).replace("avx2", "")
    assert hosts.goamd64_level(flags) == "v2"
    assert hosts.goamd64_level(flags.replace("sse4_2", "")) == "v1"


def test_lse_atomics_make_goarm64_v8_1() -> None:
    assert hosts.goarm64_level("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics") == "v8.1"
    assert hosts.goarm64_level("fp asimd evtstrm aes pmull sha1 sha2 crc32") == "v8.0"


def test_a_binary_built_for_the_detected_level_runs_here(
    go_newest: gocmd.Toolchain, tmp_path: Path
) -> None:
    # Go refuses to start a binary built for a level the CPU lacks: the real check of our parser
    fp = hosts.fingerprint()
    key, level = ("GOAMD64", fp["goamd64"]) if fp["goamd64"] else ("GOARM64", fp["goarm64"])
    assert level, f"no GOAMD64/GOARM64 level detected on {platform.machine()}"
    (tmp_path / "go.mod").write_text("module example.com/level\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { println("ok") }\n')
    out = tmp_path / "level.bin"
    gocmd.go(go_newest, ["build", "-o", str(out), "."], cwd=tmp_path, timeout=300,
             extra_env={key: str(level)}, gowork="off")  # fmt: skip
    res = gocmd.run_binary(go_newest, out, [], cwd=tmp_path, timeout=60, gomaxprocs=1, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == "ok"


def test_turbo_reads_intel_pstate_before_cpufreq_boost() -> None:
    assert hosts.turbo_state("1\n", "1\n") == "off"
    assert hosts.turbo_state(None, "1\n") == "on"
    assert hosts.turbo_state(None, None) == "unknown"


def test_host_label_defaults_to_the_short_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "bench7.lab.example")
    assert hosts.label("") == "bench7"
    assert hosts.label("amd-epyc-01") == "amd-epyc-01"


def test_a_host_label_with_a_slash_is_a_config_error() -> None:
    data = config.parse_yaml(config.PARAMS.read_text(encoding="utf-8"), "params.yaml")
    assert isinstance(data, dict)
    with pytest.raises(config.ConfigError, match=r"host: host 'rack/1' must match"):
        config.validate({**data, "host": "rack/1"})


def test_the_fingerprint_is_a_row_of_the_hosts_dataset(tmp_path: Path) -> None:
    row = hosts.fingerprint("here")
    store.write_dataset(store.frame([row], catalog.schema("hosts")), tmp_path / "hosts",
                        dataset="hosts", params={})  # fmt: skip
    back = store.scan("hosts", tmp_path).collect()
    assert back.row(0, named=True) == {**row, "host": "here"}
    assert (tmp_path / "hosts" / "host=here" / "part-0.parquet").is_file()
