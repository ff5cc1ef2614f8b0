"""What each DVC stage really reads, computed from the code: the transitive closure of its Python
imports, the config keys it reads and the datasets it scans; and what its dvc.yaml entry lacks.

Config reads are attribute chains rooted at a name `cfg` (the house convention: the one entry
wrapper hands every stage body its Config as `cfg`); a chain that ends in a property or method
of a config class counts the keys that property reads.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from releaselab.core import config
from releaselab.core.paths import REPO

PACKAGES = ("stages", "releaselab", "devtools")
_CMD = re.compile(r"^sh bin/stage (?P<name>[a-z_]+)\b")


def module_file(module: str, root: Path = REPO) -> Path | None:
    base = root / Path(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imported(tree: ast.AST, module: str) -> Iterator[str]:
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


def import_closure(module: str, root: Path = REPO) -> set[Path]:
    """Files of every project module `module` imports, transitively (package __init__s too)."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        mod = todo.pop()
        if mod.split(".")[0] not in PACKAGES:
            continue
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
            path = module_file(".".join(parts[:i]), root)
            if path is None or path in seen:
                continue
            seen.add(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            todo += list(_imported(tree, ".".join(parts[:i])))
    return seen


# --- config keys ---------------------------------------------------------------------------


def _chain(node: ast.AST) -> list[str] | None:
    """`cfg.a.b.c` -> ["a", "b", "c"]; None unless rooted at the name `cfg`."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "cfg" and names:
        return names[::-1]
    return None


def _self_chains(cls: type, member: str) -> list[list[str]]:
    """`self.x.y` chains in the source of cls.member (a property or method)."""
    obj = inspect.getattr_static(cls, member)
    fn: Any = obj.fget if isinstance(obj, property) else obj
    tree = _with_parents(ast.parse(textwrap.dedent(inspect.getsource(fn))))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(
            getattr(node, "parent", None), ast.Attribute
        ):
            names: list[str] = []
            cur: ast.AST = node
            while isinstance(cur, ast.Attribute):
                names.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id == "self":
                out.append(names[::-1])
    return out


def resolve_keys(chain: list[str], cls: type = config.Config, prefix: str = "") -> set[str]:
    """Config keys a chain of attributes reads, walking the config dataclasses."""
    if not chain:
        return {prefix} if prefix else set()
    head, rest = chain[0], chain[1:]
    hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    key = f"{prefix}.{head}" if prefix else head
    if head in fields and _inline(cls, head):  # the mapping's other keys: all of `prefix`
        return {prefix}
    if head in fields:
        tp = hints[head]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp) and rest:
            return resolve_keys(rest, tp, key)
        return {key}
    if hasattr(cls, head):  # a property or method: what it reads of self
        return {k for c in _self_chains(cls, head) for k in resolve_keys(c, cls, prefix)} or (
            {prefix} if prefix else set()
        )
    return {prefix} if prefix else set()


def _inline(cls: type, name: str) -> bool:
    """A field that stands for the other keys of its mapping (metadata `inline`)."""
    return any(f.name == name and f.metadata.get("inline") for f in dataclasses.fields(cls))


def _with_parents(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node  # type: ignore[attr-defined]
    return tree


# The loader validates every key of every stage's config (a bad value anywhere stops any stage);
# that is not a read of a value that shapes an output, so its own module is not scanned.
NOT_READS = ("releaselab/core/config.py",)


def config_reads(files: Iterable[Path], root: Path = REPO) -> set[str]:
    keys: set[str] = set()
    for path in files:
        if path.relative_to(root).as_posix() in NOT_READS:
            continue
        tree = _with_parents(ast.parse(path.read_text(encoding="utf-8")))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and not isinstance(
                getattr(node, "parent", None), ast.Attribute
            ):
                chain = _chain(node)
                if chain is not None:
                    keys |= resolve_keys(chain)
    return keys


_SCAN = re.compile(r"""\bscan\(\s*["']([a-z_]+)["']""")


def dataset_reads(files: Iterable[Path]) -> set[str]:
    """Datasets scanned by name (`store.scan("bench")`)."""
    return {m for p in files for m in _SCAN.findall(p.read_text(encoding="utf-8"))}


# --- dvc.yaml ------------------------------------------------------------------------------


@dataclass
class Stage:
    file: Path
    name: str
    module: str
    deps: list[str]
    params: list[str]
    problems: list[str] = field(default_factory=list)


def stages(dvc_files: Iterable[Path], root: Path = REPO) -> list[Stage]:
    out = []
    for f in dvc_files:
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        for name, st in data["stages"].items():
            body: Mapping[str, Any] = st.get("do", st)
            m = _CMD.match(str(body["cmd"]))
            module = f"stages.{m['name']}" if m else ""
            params = [p for p in body.get("params", []) if isinstance(p, str)]
            out.append(Stage(f, name, module, [str(d) for d in body.get("deps", [])], params))
    return out


# A cell of one toolchain reads only its own go.toolchains entry (cfg.go.get(label)). DVC cannot
# name that entry as a param (labels such as 1.27.3 contain the key separator), so the cell
# depends on what the toolchains stage wrote for that label, or on a file build@<label> made from
# it: either changes whenever the label's entry does.
PER_LABEL = re.compile(r"^data/(parquet/toolchains|raw/build)/go=\$\{(key|item\.go)\}")


def _covered(path: str, deps: Iterable[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


def problems(stage: Stage, root: Path = REPO) -> list[str]:
    """What the stage reads that its deps and params do not name."""
    if not stage.module:
        return ["cmd is not `sh bin/stage NAME ...`: cannot tell what it runs"]
    deps = [d for d in stage.deps if "${" not in d]
    files = import_closure(stage.module, root)
    out = []
    for f in sorted(files):
        rel = f.relative_to(root).as_posix()
        if not _covered(rel, deps):
            out.append(f"imports {rel}, not in deps")
    if not _covered("bin/stage", deps):
        out.append("runs bin/stage, not in deps")
    for key in sorted(config_reads(files)):
        if key == "go.toolchains" and any(PER_LABEL.match(d) for d in stage.deps):
            continue
        if not any(key == p or key.startswith(p + ".") for p in stage.params):
            out.append(f"reads config key {key}, not in params")
    for ds in sorted(dataset_reads(files)):
        if not _covered(f"data/parquet/{ds}", stage.deps):
            out.append(f"scans dataset {ds}, data/parquet/{ds} not in deps")
    return out
