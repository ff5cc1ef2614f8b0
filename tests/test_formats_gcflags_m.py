"""releaselab.escape.gcflags_m on real `-m` output captured by scripts/capture_escape_data.py."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from releaselab.escape.gcflags_m import EscapeDiagnostic, Kind, parse_m

DATA = Path(__file__).parent / "data" / "escape"
VERSIONS = sorted(p.name for p in DATA.glob("1.*") if p.is_dir())
OLD_FORMAT = [v for v in VERSIONS if tuple(map(int, v.split(".")[:2])) < (1, 25)]
NEW_FORMAT = [v for v in VERSIONS if v not in OLD_FORMAT]
CAPTURES = [
    (v, name)
    for v in VERSIONS
    for name in ("small-m1", "small-m2", "std-m2")
    if (DATA / v / f"{name}.txt").exists() or (DATA / v / f"{name}.txt.gz").exists()
]


def read_text(version: str, name: str) -> str:
    """A captured `go build` output, plain or gzipped."""
    path = DATA / version / f"{name}.txt"
    if path.exists():
        return path.read_text()
    return gzip.decompress(path.with_name(path.name + ".gz").read_bytes()).decode()


def lines_of(r: EscapeDiagnostic) -> int:
    """Output lines a row stands for: its own and its flow's; a verdict stated only as an
    explanation header has the header as its message and as the first entry of its flow."""
    return len(r.flow) + (not r.flow or r.flow[0] != r.message)


def rows(version: str, name: str = "small-m2") -> list[EscapeDiagnostic]:
    return list(parse_m(read_text(version, name)))


def at(rs: list[EscapeDiagnostic], file: str, line: int, col: int) -> list[EscapeDiagnostic]:
    return [r for r in rs if (r.file or "").endswith(file) and (r.line, r.col) == (line, col)]


def test_captures_cover_the_required_toolchains() -> None:
    assert {"1.21.13", "1.24.11", "1.25.5", "1.27.3"} <= set(VERSIONS)
    assert {("1.21.13", "std-m2"), ("1.27.3", "std-m2")} <= set(CAPTURES)


@pytest.mark.parametrize(("version", "name"), CAPTURES)
def test_every_line_becomes_one_row_or_one_flow_entry(version: str, name: str) -> None:
    lines = [ln for ln in read_text(version, name).split("\n") if ln.strip()]
    headers = sum(ln.startswith("# ") for ln in lines)
    rs = list(parse_m("\n".join(lines)))
    assert sum(lines_of(r) for r in rs) == len(lines) - headers
    # and each row points at its own output line
    assert len({r.lineno for r in rs}) == len(rs)


VERDICTS = {
    Kind.MOVED_TO_HEAP, Kind.ESCAPES, Kind.DOES_NOT_ESCAPE, Kind.LEAKING_PARAM,
    Kind.LEAKING_PARAM_CONTENT, Kind.LEAKING_PARAM_TO_RESULT, Kind.CAN_INLINE, Kind.CANNOT_INLINE,
    Kind.INLINING_CALL,
}  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS)
def test_every_verdict_kind_is_recognised_on_real_output(version: str) -> None:
    assert {r.kind for r in rows(version)} >= VERDICTS


@pytest.mark.parametrize("version", VERSIONS)
def test_classic_cases_get_their_kind_and_subject(version: str) -> None:
    rs = rows(version)

    def one(line: int, col: int, kind: Kind) -> EscapeDiagnostic:
        (r,) = [r for r in at(rs, "cases.go", line, col) if r.kind is kind]
        return r

    assert one(18, 2, Kind.MOVED_TO_HEAP).subject == "x"  # return &x
    assert one(24, 9, Kind.ESCAPES).subject == "&point{...}"
    assert one(29, 2, Kind.MOVED_TO_HEAP).subject == "n"  # captured by a returned closure
    assert one(45, 9, Kind.ESCAPES).subject == "7"  # boxing a constant: escapes, no allocation
    assert one(57, 11, Kind.DOES_NOT_ESCAPE).subject == "make([]int, 8)"
    assert one(75, 15, Kind.LEAKING_PARAM_TO_RESULT).detail == "~r0 level=0"
    assert one(80, 12, Kind.LEAKING_PARAM).subject == "p"
    assert one(185, 16, Kind.LEAKING_PARAM_CONTENT).subject == "pp"
    assert one(17, 6, Kind.CAN_INLINE).function == "AddrOfLocal"
    assert one(129, 6, Kind.CANNOT_INLINE).detail == "marked go:noinline"
    assert one(191, 12, Kind.INLINING_CALL).subject == "sub.Escape"
    # inlined code is reported at the call site, with the callee's names
    assert one(191, 12, Kind.MOVED_TO_HEAP).subject == "sub.v"


@pytest.mark.parametrize("version", OLD_FORMAT)
def test_old_explanations_attach_to_the_diagnostic_they_explain(version: str) -> None:
    (moved,) = [r for r in at(rows(version), "cases.go", 18, 2) if r.kind is Kind.MOVED_TO_HEAP]
    assert moved.flow[:2] == ("x escapes to heap:", "flow: ~r0 = &x:")
    assert moved.flow[2].startswith("from &x (address-of) at ./cases.go:19:9")
    assert moved.function is None  # the old header does not name it


@pytest.mark.parametrize("version", NEW_FORMAT)
def test_new_explanations_attach_and_name_the_function(version: str) -> None:
    (moved,) = [r for r in at(rows(version), "cases.go", 18, 2) if r.kind is Kind.MOVED_TO_HEAP]
    assert moved.flow[:2] == ("x escapes to heap in AddrOfLocal:", "flow: ~r0 ← &x:")
    assert moved.function == "AddrOfLocal"


@pytest.mark.parametrize("version", VERSIONS)
def test_leak_explanations_attach_to_their_leaking_param(version: str) -> None:
    (leak,) = [
        r for r in at(rows(version), "cases.go", 185, 16) if r.kind is Kind.LEAKING_PARAM_CONTENT
    ]
    assert leak.flow[0].startswith("parameter pp leaks to {heap}")
    assert leak.flow[0].endswith("with derefs=1:")
    assert any(s.startswith("from *pp (indirection) at ") for s in leak.flow)


@pytest.mark.parametrize("version", VERSIONS)
def test_m1_output_has_no_flow_and_no_cannot_inline(version: str) -> None:
    rs = rows(version, "small-m1")
    assert all(r.flow == () for r in rs)
    assert Kind.CANNOT_INLINE not in {r.kind for r in rs}  # printed from -m=2 on


@pytest.mark.parametrize("version", VERSIONS)
def test_m2_adds_only_cannot_inline_and_debug_lines_to_m1(version: str) -> None:
    def keys(rs: list[EscapeDiagnostic]) -> set[tuple[object, ...]]:
        return {(r.package, r.file, r.line, r.col, r.kind, r.subject) for r in rs}

    m1, m2 = keys(rows(version, "small-m1")), keys(rows(version, "small-m2"))
    assert m1 <= m2
    assert {k[4] for k in m2 - m1} <= {Kind.CANNOT_INLINE, *(set(Kind) - VERDICTS)}


@pytest.mark.parametrize("version", VERSIONS)
def test_package_header_sets_the_package(version: str) -> None:
    pkgs = {r.package for r in rows(version)}
    assert pkgs == {"example.com/escapecases", "example.com/escapecases/sub"}


@pytest.mark.parametrize("version", [v for v, n in CAPTURES if n == "std-m2"])
def test_real_output_has_no_row_of_unknown_form(version: str) -> None:
    # encoding/json: wrappers' headers, closure captures, self-assignments, devirtualizations...
    assert [r.message for r in rows(version, "std-m2") if r.kind is Kind.OTHER] == []


@pytest.mark.parametrize("version", [v for v, n in CAPTURES if n == "std-m2"])
def test_explanation_headers_no_verdict_claims_are_verdicts_of_their_kind(version: str) -> None:
    # Wrapper methods get explanations but never a verdict line: the header is the verdict.
    alone = [r for r in rows(version, "std-m2") if r.flow and r.flow[0] == r.message]
    assert alone
    assert {r.code for r in alone} <= {"escape", "leak"}
    assert all(r.message.endswith(":") and r.kind is not Kind.OTHER for r in alone)


def test_a_leak_header_without_verdict_is_a_leaking_param_row() -> None:
    text = (
        "<autogenerated>:1: parameter req leaks to {heap} for T.RoundTrip with derefs=0:\n"
        "<autogenerated>:1:   flow: {heap} ← req:\n"
        "<autogenerated>:1:     from T.RoundTrip(req) (call parameter) at <autogenerated>:1"
    )
    (r,) = parse_m(text, package="p")
    assert (r.kind, r.subject, r.function, r.code) == (
        Kind.LEAKING_PARAM,
        "req",
        "T.RoundTrip",
        "leak",
    )
    assert r.message == r.flow[0]
    assert len(r.flow) == 3


def test_a_leak_header_with_derefs_is_leaking_param_content() -> None:
    (r,) = parse_m("./a.go:3:8: parameter p leaks to {heap} with derefs=1:")
    assert (r.kind, r.subject, r.detail) == (Kind.LEAKING_PARAM_CONTENT, "p", None)


def test_a_result_leak_header_without_verdict_is_leaking_param_to_result() -> None:
    (r,) = parse_m("./a.go:3:8: parameter p leaks to ~r0 for F with derefs=1:")
    assert (r.kind, r.subject, r.detail) == (Kind.LEAKING_PARAM_TO_RESULT, "p", "~r0 level=1")


def test_one_parameters_leak_headers_make_the_verdicts_the_compiler_would_print() -> None:
    # leaks.Optimize: a result leak with at least the heap leak's derefs is redundant.
    text = (
        "./a.go:3:8: parameter p leaks to {heap} with derefs=1:\n"
        "./a.go:3:8: parameter p leaks to ~r0 with derefs=1:\n"
        "./a.go:3:8: parameter p leaks to ~r1 with derefs=0:"
    )
    rs = list(parse_m(text))
    assert [(r.kind, r.detail, len(r.flow)) for r in rs] == [
        (Kind.LEAKING_PARAM_CONTENT, None, 2),
        (Kind.LEAKING_PARAM_TO_RESULT, "~r1 level=0", 1),
    ]


def test_a_func_literal_header_without_verdict_is_an_escapes_row() -> None:
    text = (
        "./a.go:9:5: func literal escapes to heap in F:\n"
        "./a.go:9:5:   flow: {heap} ← &{storage for func literal}:"
    )
    (r,) = parse_m(text)
    assert (r.kind, r.subject, r.function, r.code) == (Kind.ESCAPES, "func literal", "F", "escape")


def test_a_leak_header_beside_moved_to_heap_is_its_own_leak_row() -> None:
    # A parameter moved to heap gets no "leaking param" line; -json has its leak.
    text = (
        "./a.go:4:9: h escapes to heap in F:\n"
        "./a.go:4:9: parameter h leaks to {heap} for F with derefs=0:\n"
        "./a.go:4:9: moved to heap: h"
    )
    rs = list(parse_m(text))
    assert [(r.kind, r.subject, r.flow[0][:5]) for r in rs] == [
        (Kind.LEAKING_PARAM, "h", "param"),
        (Kind.MOVED_TO_HEAP, "h", "h esc"),
    ]


def test_a_header_after_its_verdict_attaches_to_it() -> None:
    # Bodyless (assembly) functions: the verdict first, the ABI wrapper's explanation later.
    text = (
        "./c.go:23:31: leaking param: a\n"
        "./c.go:5:1: can inline G\n"
        "./c.go:23:31: parameter a leaks to {heap} for abigen_cmpstring with derefs=0:\n"
        "./c.go:23:31:   flow: {heap} ← a:"
    )
    rs = list(parse_m(text))
    assert [(r.kind, len(r.flow), r.function) for r in rs] == [
        (Kind.LEAKING_PARAM, 2, "abigen_cmpstring"),
        (Kind.CAN_INLINE, 0, "G"),
    ]


def test_a_result_leak_header_attaches_to_the_parameters_heap_verdict() -> None:
    text = (
        "./a.go:3:8: parameter t leaks to {heap} with derefs=0:\n"
        "./a.go:3:8: parameter t leaks to ~r0 with derefs=1:\n"
        "./a.go:3:8: leaking param: t"
    )
    (r,) = parse_m(text)
    assert (r.kind, len(r.flow)) == (Kind.LEAKING_PARAM, 2)


def test_more_escape_headers_than_verdicts_make_escapes_rows() -> None:
    hdr = "./a.go:3:8: x escapes to heap:"
    text = f"{hdr}\n{hdr}\n./a.go:3:8: moved to heap: x"
    rs = list(parse_m(text))
    assert [(r.kind, r.lineno) for r in rs] == [(Kind.ESCAPES, 2), (Kind.MOVED_TO_HEAP, 3)]


@pytest.mark.parametrize(
    ("msg", "kind", "subject", "function", "detail"),
    [
        ("F capturing by value: x (addr=false assign=false width=8)", Kind.CLOSURE_CAPTURE, "x",
         "F", "value"),
        ("F ignoring self-assignment in s.b = s.b[:0]", Kind.SELF_ASSIGNMENT, "s.b = s.b[:0]", "F",
         None),
        ("index bounds check elided", Kind.BOUNDS_CHECK_ELIDED, None, None, None),
        ("devirtualizing p.Implements to *reflect.rtype", Kind.DEVIRTUALIZED, "p.Implements", None,
         "*reflect.rtype"),
        ("zero-copy string->[]byte conversion", Kind.ZERO_COPY_CONVERSION, None, None, None),
        ("assuming a1 is unsafe uintptr", Kind.UNSAFE_UINTPTR, "a1", None, None),
        ("marking args as escaping ...uintptr", Kind.UNSAFE_UINTPTR, "args", None, None),
        ("function F considered 'big'; reducing max cost of inlinees", Kind.BIG_FUNCTION, None,
         "F", None),
        ("imprecise interface call", Kind.IMPRECISE_INTERFACE_CALL, None, None, None),
        ("loop variable i now per-iteration, heap-allocated", Kind.LOOP_VARIABLE, "i", None,
         "heap-allocated"),
        ("cannot inline F into G: repeated recursive cycle", Kind.CANNOT_INLINE_CALL, "F", "G",
         "repeated recursive cycle"),
    ],
)  # fmt: skip
def test_notes_of_a_known_form_get_their_kind(
    msg: str, kind: Kind, subject: str | None, function: str | None, detail: str | None
) -> None:
    (r,) = parse_m(f"./a.go:3:4: {msg}")
    assert (r.kind, r.subject, r.function, r.detail) == (kind, subject, function, detail)


def test_unknown_lines_become_other_rows_with_the_raw_text() -> None:
    text = "go: downloading example.com/x v1.0.0\n./a.go:3:4: something new in Go 1.99\n???"
    rs = list(parse_m(text, package="p"))
    assert [(r.kind, r.message, r.package) for r in rs] == [
        (Kind.OTHER, "go: downloading example.com/x v1.0.0", "p"),
        (Kind.OTHER, "something new in Go 1.99", "p"),
        (Kind.OTHER, "???", "p"),
    ]
    assert (rs[1].file, rs[1].line, rs[1].col) == ("./a.go", 3, 4)


def test_an_explanation_line_without_header_is_kept_as_other() -> None:
    (r,) = parse_m("./a.go:3:4:   flow: {heap} ← &x:")
    assert (r.kind, r.message, r.flow) == (Kind.OTHER, "  flow: {heap} ← &x:", ())


def test_positions_without_column_or_line_are_kept() -> None:
    text = (
        "<autogenerated>:1: inlining call to T.String\n"
        "<unknown line number>: #next escapes to heap in F:\n"
        "<unknown line number>:   flow: {storage for func literal} ← &#next:\n"
        "moved to heap: #next\n"
        "C:\\src\\a.go:7:2: moved to heap: y"
    )
    rs = list(parse_m(text))
    assert [(r.file, r.line, r.col, r.kind) for r in rs] == [
        ("<autogenerated>", 1, None, Kind.INLINING_CALL),
        (None, None, None, Kind.MOVED_TO_HEAP),
        ("C:\\src\\a.go", 7, 2, Kind.MOVED_TO_HEAP),
    ]
    assert rs[1].flow[1] == "flow: {storage for func literal} ← &#next:"
    assert rs[1].function == "F"


def test_test_package_headers_name_the_package() -> None:
    (r,) = parse_m("# example.com/p [example.com/p.test]\n./a_test.go:3:6: can inline F")
    assert (r.package, r.kind, r.subject, r.detail) == ("example.com/p", Kind.CAN_INLINE, "F", None)


def test_append_verdict_claims_its_spelled_out_explanation() -> None:
    text = (
        "./a.go:5:13: append(b, 1) escapes to heap in f:\n"
        "./a.go:5:13:   flow: {heap} ← &{storage for append(b, 1)}:\n"
        "./a.go:5:13: append escapes to heap"
    )
    (r,) = parse_m(text)
    assert (r.kind, r.subject, r.function, len(r.flow)) == (Kind.ESCAPES, "append", "f", 2)


def test_parse_m_streams_an_iterable_of_lines() -> None:
    lines = iter(["# p\n", "./a.go:1:6: can inline F with cost 2 as: func() {  }\n"])
    (r,) = parse_m(lines)
    assert (r.package, r.subject, r.detail, r.lineno) == ("p", "F", "cost 2", 2)
