"""releaselab.escape.gcflags_json on real `-json=0` output, cross-checked against the `-m` text."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from releaselab.escape.gcflags_json import EscapeDiagnostic, Kind, parse_json
from releaselab.escape.gcflags_m import parse_m

DATA = Path(__file__).parent / "data" / "escape"
VERSIONS = sorted(p.name for p in DATA.glob("1.*") if p.is_dir())
BUILDS = [
    (v, name)
    for v in VERSIONS
    for name in ("small-m1", "small-m2", "std-m2")
    if (DATA / v / f"{name}.json").is_dir()
]
# Statements both channels print (JSON has no "does not escape" / "inlining call to").
SHARED = {
    Kind.CAN_INLINE, Kind.CANNOT_INLINE, Kind.ESCAPES, Kind.MOVED_TO_HEAP,
    Kind.LEAKING_PARAM, Kind.LEAKING_PARAM_CONTENT, Kind.LEAKING_PARAM_TO_RESULT,
}  # fmt: skip


def read(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def json_rows(version: str, name: str) -> list[EscapeDiagnostic]:
    files = sorted((DATA / version / f"{name}.json").rglob("*.json*"))
    return [r for f in files for r in parse_json(read(f))]


def text_rows(version: str, name: str) -> list[EscapeDiagnostic]:
    path = DATA / version / f"{name}.txt"
    return list(parse_m(read(path if path.exists() else path.with_name(path.name + ".gz"))))


def key(r: EscapeDiagnostic) -> tuple[object, ...]:
    return (r.package, r.file, r.line, r.col)


@pytest.mark.parametrize(("version", "name"), BUILDS)
def test_every_json_line_becomes_one_row_or_joins_its_verdict(version: str, name: str) -> None:
    for f in (DATA / version / f"{name}.json").rglob("*.json*"):
        lines = [ln for ln in read(f).split("\n") if ln.strip()]
        rs = list(parse_json(read(f)))
        # an "escapes" row is the explanation line joined with the verdict line after it
        joined = sum(r.kind is Kind.ESCAPES and r.message != "" for r in rs)
        assert len(rs) + joined == len(lines) - 1  # minus the header


@pytest.mark.parametrize("version", VERSIONS)
def test_positions_are_the_compilers_one_based_line_and_column(version: str) -> None:
    rs = json_rows(version, "small-m2")
    (r,) = [r for r in rs if r.kind is Kind.MOVED_TO_HEAP and r.subject == "x"]
    assert (os.path.basename(r.file or ""), r.line, r.col) == ("cases.go", 18, 2)  # x := 42
    (w,) = [r for r in rs if r.kind is Kind.CAN_INLINE and r.line == 8]
    assert (os.path.basename(w.file or ""), w.col, w.detail) == ("sub.go", 6, "cost 5")


@pytest.mark.parametrize("version", VERSIONS)
def test_json_does_not_depend_on_the_m_level(version: str) -> None:
    def strip(rs: list[EscapeDiagnostic]) -> list[tuple[object, ...]]:
        return [(*key(r), r.kind, r.subject, r.flow) for r in rs]

    assert strip(json_rows(version, "small-m1")) == strip(json_rows(version, "small-m2"))


@pytest.mark.parametrize("version", VERSIONS)
def test_each_shared_kind_is_recognised_in_json(version: str) -> None:
    assert {r.kind for r in json_rows(version, "small-m2")} >= SHARED


@pytest.mark.parametrize("version", VERSIONS)
def test_escape_verdict_takes_subject_and_flow_from_its_explanation(version: str) -> None:
    (r,) = [r for r in json_rows(version, "small-m2") if r.kind is Kind.ESCAPES and r.line == 24]
    assert r.subject == "&point{...}"
    assert r.flow[0].startswith("flow: ~r0 ")
    assert r.flow[1].startswith("from &point{...} (spill) at ")
    assert r.flow[1].endswith("cases.go:24:9")


@pytest.mark.parametrize("version", VERSIONS)
def test_inlined_code_keeps_its_inner_position(version: str) -> None:
    (r,) = [r for r in json_rows(version, "small-m2") if r.subject == "sub.v"]
    assert (r.kind, r.line, r.col) == (Kind.MOVED_TO_HEAP, 191, 12)
    assert "sub/sub.go:19:13" in (r.detail or "")


@pytest.mark.parametrize(("version", "name"), [b for b in BUILDS if b[1] != "small-m1"])
def test_every_json_diagnostic_is_in_the_m2_text_of_the_same_build(version: str, name: str) -> None:
    cwd = json.loads((DATA / version / "capture.json").read_text())[name]["cwd"]
    text = [replace(r, file=os.path.normpath(os.path.join(cwd, r.file)))
            if r.file and not r.file.startswith("<") else r
            for r in text_rows(version, name)]  # fmt: skip
    by_kind = {(*key(r), r.kind) for r in text}
    # Explanations with no verdict (wrappers) are `other` in the text; their code says which.
    by_code = {(*key(r), r.code) for r in text if r.kind is Kind.OTHER and r.code}
    # A package's own directory: where most of its diagnostics are.
    dirs = Counter((r.package, os.path.dirname(r.file or "")) for r in text)
    own = {pkg: d for (pkg, d), _ in reversed(dirs.most_common())}  # most common wins
    missing = []
    for r in json_rows(version, name):
        if r.kind not in SHARED:
            continue
        if os.path.dirname(r.file or "") not in (own[r.package], ""):
            # Code from other packages compiled into this one (generic instantiations, promoted
            # method wrappers of embedded types): -json names its files by base name only, so
            # e.g. `type.json` mixes several type.go files under one header and positions cannot
            # be attributed. Only the package's own files (and <autogenerated>) are compared.
            continue
        if (*key(r), r.kind) in by_kind:
            continue
        if r.kind in (Kind.ESCAPES, Kind.MOVED_TO_HEAP) and (*key(r), "escape") in by_code:
            continue
        if r.code == "leak" and ((*key(r), "leak") in by_code or _leak_at(by_kind, r)):
            # The text prints one verdict per parameter after simplifying its leaks: a leak
            # to a result that the heap leak subsumes is not repeated.
            continue
        missing.append(r)
    assert missing == []


def _leak_at(keys: set[tuple[object, ...]], r: EscapeDiagnostic) -> bool:
    leaks = (Kind.LEAKING_PARAM, Kind.LEAKING_PARAM_CONTENT, Kind.LEAKING_PARAM_TO_RESULT)
    return any((*key(r), k) in keys for k in leaks)


def test_malformed_lines_and_unknown_codes_become_other_rows() -> None:
    text = (
        '{"version":0,"package":"p","file":"/x/a.go"}\n'
        "not json\n"
        '{"range":{"start":{"line":3,"character":4},"end":{"line":3,"character":4}},'
        '"code":"somethingNew","message":"hi"}\n'
    )
    rs = list(parse_json(text))
    assert [(r.kind, r.message, r.code, r.line, r.col) for r in rs] == [
        (Kind.OTHER, "not json", None, None, None),
        (Kind.OTHER, "hi", "somethingNew", 3, 4),
    ]
    assert all(r.package == "p" and r.channel == "json" for r in rs)
