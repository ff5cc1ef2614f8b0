"""The config contract: params.yaml is the default composition, and bad input is named and fixed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from releaselab.core import config
from releaselab.core.config import ConfigError
from stages import config as config_cli


def _problems(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as err:
        config.compose(overrides)
    return str(err.value)


def test_params_yaml_is_the_default_composition(repo: Path) -> None:
    committed = (repo / "params.yaml").read_text(encoding="utf-8")
    assert committed == config.compose_yaml(), "run `make params` and commit params.yaml"


def test_params_yaml_loads_and_validates(repo: Path) -> None:
    cfg = config.load(repo / "params.yaml")
    assert cfg.go.labels == ("1.25.5", "1.26.6", "1.27.3")
    assert cfg.sweep.gomaxprocs == (1, 2)
    assert cfg.baseline == "1.25.5"


@pytest.mark.parametrize(
    ("group", "labels"),
    [
        ("one", ("1.27.3",)),
        ("all", ("1.21.13", "1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3")),
    ],
)
def test_go_groups_compose_to_their_toolchains(group: str, labels: tuple[str, ...]) -> None:
    assert config.compose([f"go={group}"]).go.labels == labels


def test_overrides_shrink_the_sweep() -> None:
    assert config.compose(["sweep.gomaxprocs=[1]"]).sweep.gomaxprocs == (1,)


def test_local_goroot_toolchain_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "go").write_text("")
    cfg = config.compose(["go=one", f"+go.toolchains.tip.goroot={tmp_path}"])
    assert cfg.go.get("tip").source == "goroot"


def test_unknown_key_is_rejected_with_allowed_keys() -> None:
    msg = _problems(["+bench.rouns=3"])
    assert "bench.rouns: unknown key" in msg
    assert "rounds" in msg


def test_wrong_type_is_rejected_naming_the_key() -> None:
    assert "bench.rounds: expected an integer" in _problems(["bench.rounds=many"])


def test_version_read_as_float_says_to_quote_it() -> None:
    msg = _problems(["go=one", "+go.toolchains.old.version=1.30"])
    assert "go.toolchains.old.version" in msg
    assert "quote" in msg


def test_label_read_as_float_says_to_quote_it() -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    data["go"]["toolchains"] = {1.3: {"version": "1.27.3"}}
    with pytest.raises(ConfigError, match=r"number 1\.3; quote it"):
        config.validate(data)


def test_gomaxprocs_below_one_is_rejected() -> None:
    assert "sweep.gomaxprocs[0]: 0 is below 1" in _problems(["sweep.gomaxprocs=[0,2]"])


def test_duplicate_labels_are_rejected(tmp_path: Path) -> None:
    text = (
        'go:\n  toolchains:\n    "1.27.3": {version: "1.27.3"}\n    "1.27.3": {version: "1.26.6"}\n'
    )
    with pytest.raises(ConfigError, match=r"1\.27\.3: duplicate key"):
        config.parse_yaml(text, "params.yaml")


def test_duplicate_labels_in_a_conf_group_are_rejected(tmp_path: Path, repo: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(repo / "conf", conf)
    (conf / "go" / "dup.yaml").write_text(
        'toolchains:\n  "1.27.3": {version: "1.27.3"}\n  "1.27.3": {version: "1.26.6"}\n'
    )
    with pytest.raises(ConfigError, match="duplicate key"):
        config.compose(["go=dup"], conf_dir=conf)


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ("bad-label", "contains '-'"),
        ("at@home", "contains '@'"),
        ("a/b", "contains '/'"),
        ("two words", "whitespace"),
        ("../x", "contains '/'"),
        ("1.26.6;rm", "must match"),
    ],
)
def test_bad_labels_are_rejected(label: str, why: str) -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    data["go"]["toolchains"] = {label: {"version": "1.27.3"}}
    with pytest.raises(ConfigError) as err:
        config.validate(data)
    assert why in str(err.value)
    assert label in str(err.value)


def test_goroot_without_bin_go_is_rejected(tmp_path: Path) -> None:
    msg = _problems(["go=one", f"+go.toolchains.tip.goroot={tmp_path}"])
    assert f"{tmp_path} has no bin/go" in msg


def test_entry_needs_exactly_one_source() -> None:
    assert "exactly one of" in _problems(
        ["go=one", "+go.toolchains.x.version=1.27.3", "+go.toolchains.x.goroot=/nope"]
    )


def test_baseline_must_be_a_configured_toolchain() -> None:
    assert "bench.baseline: '1.20.1' is not a configured toolchain" in _problems(
        ["bench.baseline=1.20.1"]
    )


def test_unknown_group_option_lists_the_options() -> None:
    msg = _problems(["go=nope"])
    assert "go: all, one, recent" in msg


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        config.compose(["bench.rounds=0", "sweep.gomaxprocs=[-1]"])
    assert len(err.value.problems) == 2


def test_check_command_exits_2_on_bad_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert config_cli.main(["check", "sweep.gomaxprocs=[0]"]) == 2
    assert "GOMAXPROCS must be >= 1" in capsys.readouterr().err


def test_show_command_prints_the_composition(capsys: pytest.CaptureFixture[str]) -> None:
    assert config_cli.main(["show", "go=one"]) == 0
    assert "1.27.3:\n      version: 1.27.3" in capsys.readouterr().out


def test_load_names_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stages\.config dump"):
        config.load(tmp_path / "params.yaml")


def test_sampler_reps_below_one_are_rejected() -> None:
    assert "labs.stack.overhead_reps: 0 must be >= 1" in _problems(["labs.stack.overhead_reps=0"])


def test_godebug_variant_must_be_name_value_pairs() -> None:
    msg = _problems(["labs.stack.godebug=['', 'adaptivestackstart 0']"])
    assert "labs.stack.godebug[1]" in msg
