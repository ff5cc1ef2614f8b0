"""The one config loader: a typed, validated view of params.yaml (composed from conf/ by Hydra).

Command line: `python -m stages.config` (show, check, dump).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from releaselab.core import hosts, labels
from releaselab.core.errors import LabError
from releaselab.core.paths import CONF_DIR, PARAMS, REPO

__all__ = ["CONF_DIR", "PARAMS", "REPO"]

# Labels become partition values, DVC stage names (joined with "-" and "@") and path parts.
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]*$")
VERSION_RE = re.compile(r"^1\.\d+(\.\d+)?((rc|beta)\d+)?$")
DURATION_RE = re.compile(r"^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$")
GODEBUG_RE = re.compile(r"^[a-z0-9_]+=[A-Za-z0-9_.]+(,[a-z0-9_]+=[A-Za-z0-9_.]+)*$")
BENCHTIME_RE = re.compile(r"^(\d+x|\d+(\.\d+)?(ns|us|µs|ms|s|m|h))$")
# A module at an exact version: a release (v1.2.3), a pre-release or a pseudo-version; never a
# query such as `latest` or a branch, which would not be the same code tomorrow.
MODULE_RE = re.compile(
    r"^(?P<path>[A-Za-z0-9][A-Za-z0-9._~/-]*)@(?P<version>v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?"
    r"(\+incompatible)?)$"
)
# A package pattern as the go command takes it (`strconv`, `encoding/...`, `./...`, `./x`):
# no leading `-` (it would be read as a flag), no whitespace, no shell or glob specials.
PATTERN_RE = re.compile(r"^[A-Za-z0-9._~/][A-Za-z0-9._~/+-]*$")
# The target name of the three runtime labs (runtime-foundations/): a key of `targets` whose
# value is true or false, never a source.
LABS_TARGET = "labs"


class ConfigError(LabError, ValueError):
    """Invalid configuration; the message names every bad key and its fix."""

    fix = (
        "change the keys named above in conf/ (then `make params`) or with `dvc exp run -S`; "
        "`python -m stages.config check` validates a composition"
    )

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration in {source}:\n{lines}")


@dataclass(frozen=True)
class ToolchainSpec:
    """One configured toolchain: a PyPI release (`version`) or a local build (`goroot`)."""

    label: str
    version: str | None = None
    goroot: str | None = None

    @property
    def source(self) -> str:
        return "pypi" if self.version is not None else "goroot"


@dataclass(frozen=True)
class GoConfig:
    toolchains: tuple[ToolchainSpec, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(t.label for t in self.toolchains)

    def get(self, label: str) -> ToolchainSpec:
        for t in self.toolchains:
            if t.label == label:
                return t
        known = ", ".join(self.labels)
        raise ConfigError("go.toolchains", [f"no toolchain labelled {label!r}; known: {known}"])


@dataclass(frozen=True)
class SweepConfig:
    gomaxprocs: tuple[int, ...]


@dataclass(frozen=True)
class BenchConfig:
    rounds: int
    benchtime: str
    seed: int
    baseline: str | None


@dataclass(frozen=True)
class SchedLab:
    duration: str
    workloads: tuple[str, ...]
    runs: int = 10  # separate processes per toolchain x GOMAXPROCS cell, interleaved rounds
    seed: int = 1  # seed of the rounds' shuffles


@dataclass(frozen=True)
class StackLab:
    interval: str
    godebug: tuple[str, ...]
    overhead_reps: int = 3  # fresh processes per sampler state (off, on) in the -overhead run
    runs: int = 5  # separate runs of every GODEBUG variant per cell, interleaved rounds
    seed: int = 1  # seed of the rounds' shuffles


@dataclass(frozen=True)
class LabsConfig:
    sched: SchedLab
    stack: StackLab


@dataclass(frozen=True)
class TargetSpec:
    """One target: Go code compared across the toolchains besides (or instead of) the labs.

    Exactly one source: `std` (a standard-library package pattern), `dir` (a local module
    directory) or `module` (path@version from the Go module proxy). `packages` are the patterns
    built in a module (default ./...); `bench` the -test.bench regex; `benchtime` and `timeout`
    (seconds per benchmark run) override bench.benchtime and timeouts.run for its cells.
    """

    label: str
    std: str | None = None
    dir: str | None = None
    module: str | None = None
    packages: tuple[str, ...] = ()
    bench: str = "."
    benchtime: str | None = None
    timeout: int | None = None

    @property
    def source(self) -> str:
        """std, dir or module."""
        return "std" if self.std is not None else "dir" if self.dir is not None else "module"

    @property
    def patterns(self) -> tuple[str, ...]:
        """The package patterns the go command builds for this target."""
        if self.std is not None:
            return (self.std,)
        return self.packages or ("./...",)

    @property
    def path(self) -> Path | None:
        """The module directory of a `dir` target (relative paths are from the repository)."""
        if self.dir is None:
            return None
        p = Path(self.dir).expanduser()
        return p if p.is_absolute() else REPO / p

    @property
    def ref(self) -> str:
        """What the source names: the std pattern, the directory or module@version."""
        return str(self.std or self.dir or self.module)


@dataclass(frozen=True)
class TargetsConfig:
    """`targets`: whether the labs take part in bench and escape (`labs: true`), and the
    targets added to them, in configuration order."""

    labs: bool
    # `inline`: no key of its own; the entries are the other keys of `targets` (tests/helpers/
    # dvcdeps.py counts a read of it as a read of `targets`)
    specs: tuple[TargetSpec, ...] = dataclasses.field(default=(), metadata={"inline": True})

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(t.label for t in self.specs)

    def get(self, label: str) -> TargetSpec:
        for t in self.specs:
            if t.label == label:
                return t
        known = ", ".join(self.labels) or "none"
        raise ConfigError("targets", [f"no target labelled {label!r}; configured: {known}"])


@dataclass(frozen=True)
class Timeouts:
    build: int
    run: int


@dataclass(frozen=True)
class ExecutorConfig:
    """Where bench, sched and stack runs execute (releaselab.core.executor)."""

    kind: str = "local"  # local: this machine; ray: the benchmark hosts of a Ray cluster
    address: str = ""  # ray: the cluster (ray.init address); "" = $RAY_ADDRESS, else "auto"
    retries: int = 2  # ray: resubmissions of a run whose node was lost
    lost_host_wait: int = (
        60  # ray: seconds a lost host may take to return before its runs are missing
    )


@dataclass(frozen=True)
class Config:
    go: GoConfig
    sweep: SweepConfig
    bench: BenchConfig
    labs: LabsConfig
    targets: TargetsConfig
    host: str
    timeouts: Timeouts
    executor: ExecutorConfig = ExecutorConfig()

    @property
    def host_label(self) -> str:
        """The host key of every measured row: `host`, else this machine's hostname."""
        return hosts.label(self.host)

    @property
    def baseline(self) -> str:
        return self.bench.baseline or self.go.labels[0]

    @property
    def order(self) -> list[str]:
        """The toolchain labels in display order: the baseline first, then by version."""
        return labels.display_order(self.go.labels, self.baseline)

    @property
    def aa_pairs(self) -> list[tuple[str, str]]:
        """Labels that name the same toolchain (version or GOROOT): A/A comparisons."""
        return labels.aa_pairs([(t.label, t.version or str(t.goroot)) for t in self.go.toolchains])


# ---------------------------------------------------------------------------------------------
# Validation: pure functions from plain data to the dataclasses above, collecting every problem.


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _check_scalar(tp: Any, value: object, path: str, problems: list[str]) -> object:
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_type_name(value)} {value!r}")
        return value
    if tp is str:
        if isinstance(value, float):
            problems.append(
                f"{path}: YAML read {value!r} as a number; quote it as a string "
                f'(for example "{value}" -> write "1.30", not 1.30)'
            )
        elif not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_type_name(value)} {value!r}")
        return value
    raise TypeError(f"unsupported field type {tp!r} at {path}")  # a bug in this module


def _build(tp: Any, value: object, path: str, problems: list[str]) -> object:
    """Check `value` against the type `tp` and convert it; append problems instead of raising."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _build(args[0], value, path, problems)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            problems.append(f"{path}: expected a list, got {_type_name(value)} {value!r}")
            return ()
        return tuple(_build(item_tp, v, f"{path}[{i}]", problems) for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, path, problems)
    return _check_scalar(tp, value, path, problems)


def _build_dataclass(cls: Any, value: object, path: str, problems: list[str]) -> object:
    prefix = f"{path}." if path else ""
    if cls is GoConfig:
        return _build_go(value, path, problems)
    if cls is TargetsConfig:
        return _build_targets(value, path, problems)
    if not isinstance(value, Mapping):
        problems.append(f"{path or 'config'}: expected a mapping, got {_type_name(value)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            problems.append(f"{prefix}{key}: unknown key; remove it (allowed here: {allowed})")
    kwargs: dict[str, object] = {}
    for name, field in fields.items():
        if name in value:
            kwargs[name] = _build(hints[name], value[name], f"{prefix}{name}", problems)
        elif field.default is not dataclasses.MISSING:
            kwargs[name] = field.default
        else:
            problems.append(f"{prefix}{name}: missing; add it (see conf/ for the default)")
            kwargs[name] = None
    return cls(**kwargs)


def label_problem(label: object) -> str | None:
    """Why `label` cannot name a toolchain, or None if it can."""
    if isinstance(label, float):
        return f'YAML read the label as the number {label!r}; quote it ("1.30", not 1.30)'
    if not isinstance(label, str):
        return f"a label must be a string, got {_type_name(label)} {label!r}"
    for bad, why in (
        ("-", "DVC joins matrix values with '-'"),
        ("@", "DVC uses '@' in stage names"),
        ("/", "labels are path parts"),
    ):
        if bad in label:
            return f"label {label!r} contains {bad!r} ({why}); use letters, digits, '.' or '_'"
    if any(c.isspace() for c in label):
        return f"label {label!r} contains whitespace; use letters, digits, '.' or '_'"
    if not LABEL_RE.match(label):
        return f"label {label!r} must match {LABEL_RE.pattern} (letters, digits, '.', '_')"
    return None


def _build_toolchain(label: str, value: object, path: str, problems: list[str]) -> ToolchainSpec:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a mapping with `version` or `goroot`, got {value!r}")
        return ToolchainSpec(label=label)
    spec = _build_dataclass(ToolchainSpec, {"label": label, **value}, path, problems)
    assert isinstance(spec, ToolchainSpec)
    if (spec.version is None) == (spec.goroot is None):
        problems.append(f'{path}: give exactly one of `version: "1.26.6"` or `goroot: /path`')
    if isinstance(spec.version, str) and not VERSION_RE.match(spec.version):
        problems.append(
            f'{path}.version: {spec.version!r} is not a Go release version such as "1.26.6"'
        )
    if isinstance(spec.goroot, str) and not (Path(spec.goroot) / "bin" / "go").is_file():
        problems.append(
            f"{path}.goroot: {spec.goroot} has no bin/go; point it at a Go tree "
            "(the directory that holds bin/go, as `go env GOROOT` prints)"
        )
    return spec


def _build_go(value: object, path: str, problems: list[str]) -> GoConfig:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a mapping with `toolchains`")
        return GoConfig(toolchains=())
    for key in value:
        if key != "toolchains":
            problems.append(f"{path}.{key}: unknown key; remove it (allowed here: toolchains)")
    raw = value.get("toolchains")
    if not isinstance(raw, Mapping) or not raw:
        problems.append(
            f"{path}.toolchains: expected a non-empty mapping of label -> "
            '{version: "X.Y.Z"} or {goroot: /path}'
        )
        return GoConfig(toolchains=())
    specs = []
    seen: dict[str, object] = {}
    for label, entry in raw.items():
        where = f"{path}.toolchains.{label}"
        why = label_problem(label)
        if why is not None:
            problems.append(f"{where}: {why}")
            continue
        if str(label) in seen:
            problems.append(f"{where}: duplicate label; give each toolchain its own label")
            continue
        seen[str(label)] = entry
        specs.append(_build_toolchain(str(label), entry, where, problems))
    return GoConfig(toolchains=tuple(specs))


def _executor_checks(ex: ExecutorConfig, problems: list[str]) -> None:
    if ex.kind not in {"local", "ray"}:
        problems.append(f"executor.kind: {ex.kind!r} is not local or ray")
    for key, num in (("retries", ex.retries), ("lost_host_wait", ex.lost_host_wait)):
        if isinstance(num, int) and num < 0:
            problems.append(f"executor.{key}: {num} is below 0")


def _patterns(value: object, path: str, problems: list[str]) -> tuple[str, ...]:
    """`packages`: one pattern or a list of them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        problems.append(f"{path}: expected a package pattern such as ./... or a list of them")
        return ()
    for i, p in enumerate(items):
        if not isinstance(p, str) or not PATTERN_RE.match(p):
            problems.append(
                f"{path}[{i}]: {p!r} is not a package pattern such as ./... or ./cmd/x "
                "(no leading '-', no spaces)"
            )
    return tuple(str(p) for p in items)


def _build_target(label: str, value: object, path: str, problems: list[str]) -> TargetSpec:
    if not isinstance(value, Mapping):
        problems.append(
            f"{path}: expected a mapping with one of `std: strconv`, `dir: /path/to/module` or "
            f"`module: example.com/m@v1.2.3`, got {value!r}"
        )
        return TargetSpec(label=label)
    fields = {k: v for k, v in value.items() if k != "packages"}
    spec = _build_dataclass(TargetSpec, {"label": label, **fields}, path, problems)
    assert isinstance(spec, TargetSpec)
    sources = [k for k in ("std", "dir", "module") if getattr(spec, k) is not None]
    if len(sources) != 1:
        problems.append(
            f"{path}: give exactly one source: `std: <package pattern>`, `dir: <module "
            f"directory>` or `module: <path@version>` (got {', '.join(sources) or 'none'})"
        )
    packages: tuple[str, ...] = ()
    if "packages" in value:
        if spec.std is not None:
            problems.append(f"{path}.packages: a std target's packages are its `std` pattern")
        packages = _patterns(value["packages"], f"{path}.packages", problems)
    if isinstance(spec.std, str) and (not PATTERN_RE.match(spec.std) or spec.std[0] in "./"):
        problems.append(
            f"{path}.std: {spec.std!r} is not a standard-library package pattern such as "
            "strconv or encoding/... (a module directory is `dir:`)"
        )
    if isinstance(spec.module, str) and not MODULE_RE.match(spec.module):
        problems.append(
            f"{path}.module: {spec.module!r} is not path@version at an exact version such as "
            "github.com/cespare/xxhash/v2@v2.3.0 (no `latest`, no branch)"
        )
    where = spec.path if isinstance(spec.dir, str) else None
    if where is not None and not (where / "go.mod").is_file():
        problems.append(
            f"{path}.dir: {where} has no go.mod; point it at a module's root directory "
            "(relative paths are from the repository)"
        )
    if isinstance(spec.bench, str) and not spec.bench.strip():
        problems.append(f'{path}.bench: empty; give a -test.bench regex ("." for all)')
    if isinstance(spec.benchtime, str) and not BENCHTIME_RE.match(spec.benchtime):
        problems.append(f'{path}.benchtime: {spec.benchtime!r} is not a -test.benchtime ("20ms")')
    if isinstance(spec.timeout, int) and not isinstance(spec.timeout, bool) and spec.timeout < 1:
        problems.append(f"{path}.timeout: {spec.timeout} must be >= 1 (seconds)")
    return dataclasses.replace(spec, packages=packages)


def _build_targets(value: object, path: str, problems: list[str]) -> TargetsConfig:
    if not isinstance(value, Mapping):
        problems.append(
            f"{path}: expected a mapping: `labs: true` and label -> "
            "{std: ...} | {dir: ...} | {module: ...}"
        )
        return TargetsConfig(labs=True)
    labs = value.get(LABS_TARGET, False)
    if not isinstance(labs, bool):
        problems.append(
            f"{path}.{LABS_TARGET}: expected true or false (whether the labs take part in bench "
            f"and escape); `{LABS_TARGET}` names the labs, not a target of yours"
        )
    specs = []
    for label, entry in value.items():
        if label == LABS_TARGET:
            continue
        where = f"{path}.{label}"
        why = label_problem(label)
        if why is not None:
            problems.append(f"{where}: {why}")
            continue
        specs.append(_build_target(str(label), entry, where, problems))
    return TargetsConfig(labs=labs is True, specs=tuple(specs))


def _cross_checks(cfg: Config, problems: list[str]) -> None:
    _executor_checks(cfg.executor, problems)
    if isinstance(cfg.host, str) and (why := hosts.label_problem(cfg.host)):
        problems.append(f'host: {why}; or "" for this machine\'s hostname')
    for i, n in enumerate(cfg.sweep.gomaxprocs):
        if isinstance(n, int) and n < 1:
            problems.append(f"sweep.gomaxprocs[{i}]: {n} is below 1; GOMAXPROCS must be >= 1")
    if len(set(cfg.sweep.gomaxprocs)) != len(cfg.sweep.gomaxprocs):
        problems.append("sweep.gomaxprocs: duplicate values; list each GOMAXPROCS once")
    if not cfg.sweep.gomaxprocs:
        problems.append("sweep.gomaxprocs: empty; list at least one value, e.g. [1]")
    base = cfg.bench.baseline
    if isinstance(base, str) and cfg.go.toolchains and base not in cfg.go.labels:
        problems.append(
            f"bench.baseline: {base!r} is not a configured toolchain; use one of "
            f"{', '.join(cfg.go.labels)} or null (the first one)"
        )
    for key, val, rx in (
        ("bench.benchtime", cfg.bench.benchtime, BENCHTIME_RE),
        ("labs.sched.duration", cfg.labs.sched.duration, DURATION_RE),
        ("labs.stack.interval", cfg.labs.stack.interval, DURATION_RE),
    ):
        if isinstance(val, str) and not rx.match(val):
            problems.append(f'{key}: {val!r} is not a Go duration such as "100ms"')
    for key, num in (
        ("bench.rounds", cfg.bench.rounds),
        ("timeouts.build", cfg.timeouts.build),
        ("timeouts.run", cfg.timeouts.run),
        ("labs.stack.overhead_reps", cfg.labs.stack.overhead_reps),
        ("labs.sched.runs", cfg.labs.sched.runs),
        ("labs.stack.runs", cfg.labs.stack.runs),
    ):
        if isinstance(num, int) and not isinstance(num, bool) and num < 1:
            problems.append(f"{key}: {num} must be >= 1")
    for i, gd in enumerate(cfg.labs.stack.godebug):
        if isinstance(gd, str) and gd and not GODEBUG_RE.match(gd):
            problems.append(
                f"labs.stack.godebug[{i}]: {gd!r} is not a GODEBUG value such as "
                '"adaptivestackstart=0" (comma-separated name=value; "" for none)'
            )


def _moved(data: object) -> list[str]:
    """Keys that moved, with where to: a composition or params.yaml from before the move."""
    labs = data.get("labs") if isinstance(data, Mapping) else None
    if isinstance(labs, Mapping) and "escape" in labs:
        return [
            "labs.escape: moved to `targets` (remove it): a standard-library package is "
            "`+targets.<label>.std=encoding/json`, a module directory "
            "`+targets.<label>.dir=/path/to/module` (see the README, Targets)"
        ]
    return []


def validate(data: object, source: str = "params.yaml") -> Config:
    """Turn composed config data into a Config, or raise ConfigError listing every problem."""
    problems: list[str] = _moved(data)
    if problems and isinstance(data, Mapping):
        data = {**data, "labs": {k: v for k, v in data["labs"].items() if k != "escape"}}
    cfg = _build(Config, data, "", problems)
    if problems or not isinstance(cfg, Config):
        raise ConfigError(source, problems or ["not a mapping"])
    _cross_checks(cfg, problems)
    if problems:
        raise ConfigError(source, problems)
    return cfg


# ---------------------------------------------------------------------------------------------
# Reading: params.yaml (what DVC stages see) or a fresh Hydra composition of conf/.


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}",
                [f"{key}: duplicate key; each label or key may appear once"],
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> object:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as err:
        raise ConfigError(f"{source} ({err.source})", err.problems) from None
    except yaml.YAMLError as err:
        raise ConfigError(source, [f"not valid YAML: {err}"]) from None


def load(path: Path = PARAMS) -> Config:
    """The validated config from params.yaml, as every stage reads it."""
    if not path.is_file():
        raise ConfigError(str(path), ["missing; run `python -m stages.config dump` to create it"])
    return validate(parse_yaml(path.read_text(encoding="utf-8"), str(path)), str(path))


def compose_yaml(overrides: Sequence[str] = (), conf_dir: Path = CONF_DIR) -> str:
    """Compose conf/ with Hydra exactly as `dvc exp run -S` does, returned as params.yaml text."""
    # Hydra is imported here only: stages read params.yaml and need not pay for it.
    from hydra import compose, initialize_config_dir  # noqa: PLC0415
    from hydra.errors import HydraException  # noqa: PLC0415
    from omegaconf import OmegaConf  # noqa: PLC0415
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    try:
        with initialize_config_dir(str(conf_dir.resolve()), version_base=None):
            cfg = compose(config_name="config", overrides=list(overrides))
        OmegaConf.resolve(cfg)
    except yaml.YAMLError as err:
        # e.g. a duplicate label in a conf/ file; the loader's text names file, line and key
        raise ConfigError(
            f"overrides {list(overrides)}",
            [
                f"{err}".strip().replace("found duplicate key", "duplicate key (label)"),
                "each label or key may appear once; rename one of them",
            ],
        ) from None
    except (HydraException, OmegaConfBaseException) as err:
        groups = sorted(p.name for p in conf_dir.iterdir() if p.is_dir())
        hint = "; ".join(
            f"{g}: {', '.join(sorted(x.stem for x in (conf_dir / g).glob('*.yaml')))}"
            for g in groups
        )
        raise ConfigError(
            f"overrides {list(overrides)}", [f"{err}".strip(), f"config groups -> {hint}"]
        ) from None
    return OmegaConf.to_yaml(cfg)


def compose(overrides: Sequence[str] = (), conf_dir: Path = CONF_DIR) -> Config:
    """A validated Config composed from conf/ with Hydra overrides."""
    source = f"conf/ with overrides {list(overrides)}" if overrides else "conf/"
    return validate(parse_yaml(compose_yaml(overrides, conf_dir), source), source)


def release_span(conf_dir: Path = CONF_DIR) -> tuple[str, str]:
    """(oldest, newest) release of conf/go/all.yaml: what the checks and the Go tools use."""
    data = parse_yaml(
        (conf_dir / "go" / "all.yaml").read_text(encoding="utf-8"), "conf/go/all.yaml"
    )
    go = validate_go(data, "conf/go/all.yaml")
    versions = sorted((t.version for t in go.toolchains if t.version), key=labels.version_key)
    return versions[0], versions[-1]


def validate_go(data: object, source: str) -> GoConfig:
    """A `go` group file (conf/go/*.yaml) as a GoConfig, or ConfigError."""
    problems: list[str] = []
    go = _build_go(data, "go", problems)
    if problems:
        raise ConfigError(source, problems)
    return go
