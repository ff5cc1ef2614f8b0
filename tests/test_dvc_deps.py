"""Every DVC stage names what it reads: its Python (the import closure of its entry), the config
keys it reads and the datasets it scans. Computed from the code, compared with every dvc.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from releaselab.core.paths import REPO
from tests.helpers import dvcdeps

DVC_FILES = [REPO / "dvc.yaml", *sorted((REPO / "pipelines").glob("*/dvc.yaml"))]
STAGES = dvcdeps.stages(DVC_FILES)


def test_every_stage_command_names_its_entry_module() -> None:
    assert {s.module for s in STAGES} == {
        f"stages.{n}"
        for n in ("toolchains", "build", "escape", "bench", "ledger", "sched", "stack", "report")
    }


@pytest.mark.parametrize("stage", STAGES, ids=[s.name for s in STAGES])
def test_stage_deps_and_params_cover_what_its_code_reads(stage: dvcdeps.Stage) -> None:
    assert dvcdeps.problems(stage) == [], f"{stage.file.relative_to(REPO)}:{stage.name}"


def test_build_reads_the_targets() -> None:
    build = next(s for s in STAGES if s.name == "build")
    assert "targets" in dvcdeps.config_reads(dvcdeps.import_closure(build.module))


def _without(tmp_path: Path, stage: str, key: str, item: str) -> dvcdeps.Stage:
    data = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))
    body = data["stages"][stage].get("do", data["stages"][stage])
    body[key] = [d for d in body[key] if d != item]
    f = tmp_path / "dvc.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    return next(s for s in dvcdeps.stages([f]) if s.name == stage)


def test_a_removed_code_dep_is_named(tmp_path: Path) -> None:
    st = _without(tmp_path, "ledger", "deps", "releaselab/bench")
    assert "imports releaselab/bench/units.py, not in deps" in dvcdeps.problems(st)


def test_a_removed_param_is_named(tmp_path: Path) -> None:
    st = _without(tmp_path, "build", "params", "targets")
    assert dvcdeps.problems(st) == [
        "reads config key targets, not in params",
        "reads config key targets.labs, not in params",
    ]


def test_a_removed_dataset_dep_is_named(tmp_path: Path) -> None:
    st = _without(tmp_path, "report", "deps", "data/parquet/bench")
    assert dvcdeps.problems(st) == ["scans dataset bench, data/parquet/bench not in deps"]


def test_the_targets_entries_count_as_reads_of_targets() -> None:
    assert dvcdeps.resolve_keys(["targets", "specs"]) == {"targets"}
    assert dvcdeps.resolve_keys(["targets", "labs"]) == {"targets.labs"}


def test_a_property_counts_the_keys_it_reads() -> None:
    assert dvcdeps.resolve_keys(["baseline"]) == {"bench.baseline", "go.toolchains"}
    assert dvcdeps.resolve_keys(["labs", "stack"]) == {"labs.stack"}
