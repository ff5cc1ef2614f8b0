"""Targets: the config form, the pure pieces (bench regex levels, go.mod go line, skipped columns,
per-target diffs and statistics) and real builds of a std package and of local modules with
real toolchains (one that skips a module whose go.mod needs a newer Go, one that fails)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from releaselab.bench import session, stats
from releaselab.build import targets as build_targets
from releaselab.core import config, toolchains
from releaselab.core.config import ConfigError, TargetSpec
from releaselab.core.gocmd import PROCLOG_ENV, Toolchain
from releaselab.escape import collect
from releaselab.escape import data as escape_data
from releaselab.escape.gcflags_m import parse_m
from releaselab.report.render import Table
from releaselab.targets import report as targets_report
from releaselab.targets import source

DATA = Path(__file__).parent / "data" / "targets"
SUMGO, NEWGO = DATA / "sumgo", DATA / "newgo"
XXHASH = "github.com/cespare/xxhash/v2@v2.3.0"


# --- config ----------------------------------------------------------------------------------


def test_the_default_is_the_labs_alone() -> None:
    cfg = config.compose()
    assert (cfg.targets.labs, cfg.targets.specs) == (True, ())


def test_the_stdlib_preset_adds_standard_library_targets_to_the_labs() -> None:
    targets = config.compose(["targets=stdlib"]).targets
    assert targets.labs
    assert {t.source for t in targets.specs} == {"std"}
    assert targets.get("encoding_json").patterns == ("encoding/json",)


def test_the_example_module_preset_pins_an_exact_version() -> None:
    (spec,) = config.compose(["targets=xxhash"]).targets.specs
    assert (spec.source, spec.module, spec.patterns) == ("module", XXHASH, ("./...",))


def test_a_module_directory_added_on_the_command_line_builds_all_its_packages() -> None:
    spec = config.compose(["+targets.mine.dir=tests/data/targets/sumgo"]).targets.get("mine")
    assert (spec.source, spec.patterns, spec.path) == ("dir", ("./...",), SUMGO)


def test_targets_labs_false_leaves_the_labs_out() -> None:
    assert not config.compose(["targets.labs=false"]).targets.labs


BAD_TARGETS: list[tuple[str, object, str]] = [
    ("two", {"std": "strconv", "dir": str(SUMGO)}, "targets.two: give exactly one source"),
    ("none", {"bench": "."}, "targets.none: give exactly one source"),
    ("m", {"module": "github.com/cespare/xxhash/v2"}, "targets.m.module: 'github.com/cespare"),
    ("m", {"module": "github.com/cespare/xxhash/v2@latest"}, "at an exact version"),
    ("d", {"dir": "/nonexistent"}, "targets.d.dir: /nonexistent has no go.mod"),
    ("s", {"std": "strconv", "packages": "./..."}, "targets.s.packages: a std target's"),
    ("s", {"std": "./x"}, "targets.s.std: './x' is not a standard-library package pattern"),
    ("d", {"dir": str(SUMGO), "packages": ["-exec=sh"]}, "targets.d.packages[0]: '-exec=sh'"),
    ("d", {"dir": str(SUMGO), "benchtime": "soon"}, "targets.d.benchtime: 'soon'"),
    ("d", {"dir": str(SUMGO), "timeout": 0}, "targets.d.timeout: 0 must be >= 1"),
    ("d", {"dir": str(SUMGO), "flags": "-x"}, "targets.d.flags: unknown key"),
    ("a-b", {"std": "strconv"}, "targets.a-b: label 'a-b' contains '-'"),
    ("labs", {"std": "strconv"}, "targets.labs: expected true or false"),
    ("s", "strconv", "targets.s: expected a mapping with one of `std: strconv`"),
]


@pytest.mark.parametrize(
    ("label", "value", "says"), BAD_TARGETS, ids=[f"{k}={v!r}" for k, v, _ in BAD_TARGETS]
)
def test_a_bad_target_is_rejected_naming_its_key(label: str, value: object, says: str) -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    data["targets"][label] = value
    with pytest.raises(ConfigError) as err:
        config.validate(data)
    assert says in str(err.value)


def test_the_old_extra_escape_packages_say_where_they_moved() -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    data["labs"]["escape"] = {"packages": ["encoding/json"]}
    with pytest.raises(ConfigError, match=r"labs\.escape: moved to `targets`.*\+targets\.<label>"):
        config.validate(data)


# --- pure pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regex", "levels"),
    [
        (".", [["."]]),
        ("^BenchmarkA$/^4K$", [["^BenchmarkA$", "^4K$"]]),
        ("^Benchmark(A|B)$/x", [["^Benchmark(A|B)$", "x"]]),  # `|` inside () is no alternative
        ("A/x|B", [["A", "x"], ["B"]]),
        ("[/|]/y", [["[/|]", "y"]]),  # nor inside []
        (r"a\/b", [[r"a\/b"]]),
    ],
)
def test_a_bench_regex_splits_as_the_testing_package_splits_it(
    regex: str, levels: list[list[str]]
) -> None:
    assert source.bench_levels(regex) == levels


def test_the_list_regex_takes_the_top_level_of_each_alternative() -> None:
    assert source.list_regex("^BenchmarkA$/^4K$") == "^BenchmarkA$"
    assert source.list_regex("A/x|B/y") == "(?:A)|(?:B)"


def test_the_go_line_is_read_from_go_mod() -> None:
    assert source.go_line((NEWGO / "go.mod").read_text()) == "1.24"
    assert source.go_line("module m\n") == ""


def test_a_module_path_is_escaped_as_the_module_cache_spells_it() -> None:
    assert source.escape_path("github.com/BurntSushi/toml@v1.0.0") == (
        "github.com/!burnt!sushi/toml@v1.0.0"
    )


def test_a_skipped_toolchain_gets_a_marked_column_in_display_order() -> None:
    t = Table(("GOMAXPROCS", "m: ns/op", "go 1.27.3 (base)"), ((1, "X", "5 ± 1%"),))
    out = targets_report.with_skipped(t, ["1.27.3", "1.21.13", "1.25.5"], {"1.21.13": "why"})
    assert out.columns == ("GOMAXPROCS", "m: ns/op", "go 1.27.3 (base)", "go 1.21.13 (skipped)")
    assert out.rows == ((1, "X", "5 ± 1%", "skipped"),)


def _diag_frame(version: str, target: str, text: str) -> pl.DataFrame:
    return escape_data.diagnostics_frame(parse_m(text), go=version, lab=target, target=target)


def test_a_toolchain_that_skipped_a_target_is_no_step_in_its_diff() -> None:
    line = "# example.com/m\n./m.go:3:6: can inline F with cost 2 as: func() {  }\n"
    df = pl.concat([_diag_frame("1.21.13", "a", line), _diag_frame("1.27.3", "a", line),
                    _diag_frame("1.27.3", "b", line)])  # fmt: skip
    built = {"a": ["1.21.13", "1.27.3"], "b": ["1.27.3"]}
    diff = escape_data.release_diff_by_target(df, ["1.21.13", "1.27.3"], built)
    assert diff.is_empty()  # b did not "appear" in 1.27.3: 1.21.13 never built it
    plain = escape_data.release_diff(df, ["1.21.13", "1.27.3"])
    assert plain.filter(pl.col("target") == "b")["change"].to_list() == ["appears"]


def _bench_frame(target: str, go: str, values: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"go": go, "gomaxprocs": 1, "target": target, "lab": target,
                         "package": "p", "name": "X", "unit": "sec/op",
                         "value": values})  # fmt: skip


def test_each_target_is_its_own_holm_family_against_its_own_baseline() -> None:
    a = pl.concat([_bench_frame("a", "1.25.5", [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]),
                   _bench_frame("a", "1.27.3", [2.0, 2.1, 2.2, 2.3, 2.4, 2.5])])  # fmt: skip
    b = pl.concat([_bench_frame("b", "1.27.3", [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]),
                   _bench_frame("b", "1.26.6", [1.0, 1.2, 1.1, 1.3, 1.5, 1.4])])  # fmt: skip
    keys = ("gomaxprocs", "target", "lab", "package", "name", "unit")
    alone = stats.compare_groups(a, {"a": "1.25.5"}, keys=keys)
    both = stats.compare_groups(pl.concat([a, b]), {"a": "1.25.5", "b": "1.27.3"}, keys=keys)
    assert both.filter(pl.col("target") == "a").equals(alone)
    assert set(both.filter(pl.col("target") == "b")["baseline"]) == {"1.27.3"}


def test_every_run_carries_its_target_and_the_parse_keeps_it() -> None:
    cell = session.Cell("1.27.3", 1, "sumgo", "example.com/sumgo", Path("x"), Path("."),
                        target="sumgo")  # fmt: skip
    block = session.config_block(cell, 1, 1, "h")
    assert "target: sumgo\n" in block
    df = session.parse(block + "BenchmarkSum-1 10 5.0 ns/op\n", "bench.txt")
    assert df["target"].to_list() == ["sumgo"]


def test_benchmark_text_without_a_target_key_is_the_labs() -> None:
    df = session.parse("go: 1.27.3\nround: 1\norder: 1\nBenchmarkA 1 1 ns/op\n", "bench.txt")
    assert df["target"].to_list() == ["labs"]


# --- real builds ----------------------------------------------------------------------------


def _spec(**kw: object) -> TargetSpec:
    return config.compose([f"+targets.t.{k}={v}" for k, v in kw.items()]).targets.get("t")


def test_a_std_target_builds_its_test_binary_and_its_escape_rows(
    go_newest: Toolchain, tmp_path: Path
) -> None:
    spec = _spec(std="strconv")
    made = build_targets.build_target(go_newest, spec, source.prepare(spec), tmp_path, 600)
    assert (made.record.status, made.record.test_binaries) == ("built", 1)
    (art,) = made.artifacts
    assert (art.target, art.package, art.dir) == ("t", "strconv", "strconv")
    text, js = collect.parse_unit(tmp_path / "escape" / "t", go="1.27.3", target="t")
    assert set(text["package"].drop_nulls()) == {"strconv"}
    assert set(text["target"]) == {"t"}
    checked = escape_data.cross_check(text, js).filter(pl.col("in_json").is_not_null())
    assert checked.height > 50
    assert checked.filter(~pl.col("in_json")).is_empty()


def test_a_module_that_needs_a_newer_go_is_a_skipped_cell_not_a_failure(tmp_path: Path) -> None:
    tc = toolchains.install("1.21.13")
    spec = _spec(dir=str(NEWGO))
    made = build_targets.build_target(tc, spec, source.prepare(spec), tmp_path, 600)
    assert made.record.status == "skipped"
    assert made.record.reason == "needs go >= 1.24 (this toolchain is go 1.21.13)"
    assert made.artifacts == ()
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "escape" / "t").exists()


def test_a_target_that_does_not_compile_names_target_toolchain_and_error(
    go_newest: Toolchain, tmp_path: Path
) -> None:
    mod = tmp_path / "broken"
    mod.mkdir()
    (mod / "go.mod").write_text("module example.com/broken\n\ngo 1.21\n")
    (mod / "b.go").write_text("package broken\n\nfunc F() int { return undefined }\n")
    (mod / "b_test.go").write_text("package broken\n")
    spec = _spec(dir=str(mod))
    with pytest.raises(source.TargetError) as err:
        build_targets.build_target(go_newest, spec, source.prepare(spec), tmp_path / "out", 600)
    msg = str(err.value)
    assert f"target t (dir {mod}) does not build with toolchain 1.27.3" in msg
    assert "b.go:3:23: undefined: undefined" in msg


@pytest.mark.slow
def test_a_module_from_the_proxy_is_fetched_once_with_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(module=XXHASH)
    first = source.prepare(spec)
    assert first.source_hash == "h1:UL815xU9SqsFlibzuggzjXhog7bL6oX9BbNZnL2UFvs="
    assert first.go_line == "1.11"
    assert first.root == source.module_dir(spec)
    assert json.loads((first.root / source.MARKER).read_text())["module"] == XXHASH
    log = tmp_path / "procs.jsonl"
    monkeypatch.setenv(PROCLOG_ENV, str(log))  # gocmd logs every process it starts there
    again = source.prepare(spec)
    assert again == first
    assert not log.exists()  # no `go` process: nothing fetched the second time


@pytest.mark.slow
def test_a_module_version_the_proxy_does_not_have_is_named_and_nothing_is_cached() -> None:
    spec = _spec(module="github.com/cespare/xxhash/v2@v2.99.0")
    with pytest.raises(source.TargetError) as err:
        source.prepare(spec)
    msg = str(err.value)
    assert msg.startswith("target t: cannot download github.com/cespare/xxhash/v2@v2.99.0 from")
    assert "v2.99.0" in msg.split("proxy", 1)[1]  # the go command's own reason follows
    assert not source.module_dir(spec).exists()
