"""Pure transforms of escape-analysis diagnostics: frames, the text/JSON cross-check, function
attribution, the cross-release diff and the escape ledger. Data in, data out; no paths.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import polars as pl

from stages.formats.escape_kinds import EscapeDiagnostic, Kind

ESCAPE_FAMILY = ("escapes", "moved_to_heap")
LEAK_FAMILY = ("leaking_param", "leaking_param_content", "leaking_param_to_result")
# Kinds the -json channel can express at all (no "does not escape", no "inlining call").
JSON_KINDS = (*ESCAPE_FAMILY, *LEAK_FAMILY, "can_inline", "cannot_inline")
DECISION_KINDS = (*ESCAPE_FAMILY, *LEAK_FAMILY, "does_not_escape")

SCHEMA: dict[str, pl.DataType] = {
    "go": pl.String(),
    "lab": pl.String(),
    "package": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "col": pl.Int64(),
    "kind": pl.String(),
    "subject": pl.String(),
    "message": pl.String(),
    "flow": pl.List(pl.String()),
    "function": pl.String(),
    "detail": pl.String(),
    "code": pl.String(),
    "lineno": pl.Int64(),
    "in_json": pl.Boolean(),
}
DIFF_SCHEMA: dict[str, pl.DataType] = {
    "from_go": pl.String(),
    "to_go": pl.String(),
    "lab": pl.String(),
    "package": pl.String(),
    "function": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "col": pl.Int64(),
    "subject": pl.String(),
    "change": pl.String(),
    "kind_before": pl.String(),
    "kind_after": pl.String(),
}
_KEY = ("lab", "package", "file", "line", "col", "subject")


def diagnostics_frame(rows: Iterable[EscapeDiagnostic], *, go: str, lab: str) -> pl.DataFrame:
    """Parsed diagnostics -> the escape dataset's columns (in_json still unknown)."""
    records = []
    for r in rows:
        d = asdict(r)
        d["kind"] = str(r.kind)
        d["flow"] = list(r.flow)
        records.append(d)
    cols = [c for c in SCHEMA if c not in ("go", "lab", "in_json")]
    base = (
        pl.DataFrame(records, schema={c: SCHEMA[c] for c in cols})
        if records
        else (pl.DataFrame(schema={c: SCHEMA[c] for c in cols}))
    )
    return base.with_columns(
        go=pl.lit(go, pl.String()), lab=pl.lit(lab, pl.String()),
        in_json=pl.lit(None, pl.Boolean()),
    ).select(list(SCHEMA))  # fmt: skip


def _family(kind: pl.Expr) -> pl.Expr:
    """Kinds the two channels may name differently at one position collapse to one family;
    an explanation no verdict claimed (kind `other`) counts by its JSON code."""
    code = pl.col("code")
    return (
        pl.when(kind.is_in(ESCAPE_FAMILY) | ((kind == "other") & code.is_in(["escape", "escapes"])))
        .then(pl.lit("escape"))
        .when(kind.is_in(LEAK_FAMILY) | ((kind == "other") & (code == "leak")))
        .then(pl.lit("leak"))
        .otherwise(kind)
    )


def cross_check(text: pl.DataFrame, json: pl.DataFrame) -> pl.DataFrame:
    """Mark each text row the JSON channel can express with whether the JSON has it too.

    Matched on (file, line, col) and kind family: the text says `moved to heap: x` where the JSON
    has only the explanation, and prints one leak verdict per parameter where the JSON lists each.
    """
    keys = ["file", "line", "col", "fam"]
    have = json.select(
        "file", "line", "col", fam=_family(pl.col("kind"))
    ).unique().with_columns(found=pl.lit(True))  # fmt: skip
    out = text.with_columns(fam=_family(pl.col("kind"))).join(
        have, on=keys, how="left", nulls_equal=True
    )
    # -json names its files by base name only, so code of other packages compiled into this
    # one (generic instantiations, wrappers) cannot be attributed: those rows stay unchecked.
    own = pl.col("file").str.starts_with(pl.col("package") + "/") | pl.col("file").str.starts_with(
        "<"
    )
    return out.with_columns(
        in_json=pl.when(pl.col("kind").is_in(JSON_KINDS) & own)
        .then(pl.col("found").fill_null(False))
        .otherwise(None)
    ).select(list(SCHEMA))


def json_only(text: pl.DataFrame, json: pl.DataFrame) -> pl.DataFrame:
    """JSON diagnostics of the package's own files with no text row of the same family there."""
    t = text.select("file", "line", "col", fam=_family(pl.col("kind"))).unique()
    own = pl.col("file").str.starts_with(pl.col("package") + "/") | pl.col("file").str.starts_with(
        "<"
    )
    j = json.filter(pl.col("kind").is_in(JSON_KINDS) & own).with_columns(
        fam=_family(pl.col("kind"))
    )
    return j.join(t, on=["file", "line", "col", "fam"], how="anti", nulls_equal=True).drop("fam")


_DECL_KINDS = ("can_inline", "cannot_inline")


def attribute_functions(df: pl.DataFrame) -> pl.DataFrame:
    """Fill `function` where the compiler did not name it: the nearest function declared at or
    above the row in the same file (every function gets a can/cannot-inline line at -m=2)."""
    decls = (
        df.filter(pl.col("kind").is_in(_DECL_KINDS))
        .filter(~pl.col("message").str.contains(" into "))  # "cannot inline F into G": a call
        .select("go", "lab", "file", decl_line="line", decl=pl.col("subject"))
        .drop_nulls()
        .unique(subset=["go", "lab", "file", "decl_line"], keep="first")
        .sort("go", "lab", "file", "decl_line")
    )
    base = df.with_row_index("_i")
    sorted_rows = base.filter(pl.col("line").is_not_null()).sort("go", "lab", "file", "line")
    joined = sorted_rows.join_asof(
        decls,
        left_on="line",
        right_on="decl_line",
        by=["go", "lab", "file"],
        strategy="backward",
        check_sortedness=False,  # sorted by (go, lab, file, line) above
    ).select("_i", "decl")
    return (
        base.join(joined, on="_i", how="left")
        .with_columns(function=pl.coalesce("function", "decl"))
        .sort("_i")
        .drop("_i", "decl")
    )


def _state(df: pl.DataFrame, go: str) -> pl.DataFrame:
    """One row per diagnostic identity (lab, package, position, subject) for toolchain `go`."""
    return (
        df.filter((pl.col("go") == go) & (pl.col("kind") != str(Kind.OTHER)))
        .group_by(_KEY)
        .agg(kind=pl.col("kind").unique().sort().str.join(","), function=pl.col("function").first())
    )


def release_diff(df: pl.DataFrame, order: Sequence[str]) -> pl.DataFrame:
    """Diagnostics that appear, disappear or change kind between consecutive toolchains."""
    frames = []
    for a, b in itertools.pairwise(order):
        before, after = _state(df, a), _state(df, b)
        j = before.join(
            after, on=list(_KEY), how="full", coalesce=True, suffix="_after", nulls_equal=True
        )
        j = j.with_columns(
            change=pl.when(pl.col("kind").is_null()).then(pl.lit("appears"))
            .when(pl.col("kind_after").is_null()).then(pl.lit("disappears"))
            .when(pl.col("kind") != pl.col("kind_after")).then(pl.lit("changes_kind"))
            .otherwise(None),
            function=pl.coalesce("function", "function_after"),
            from_go=pl.lit(a), to_go=pl.lit(b),
        ).filter(pl.col("change").is_not_null())  # fmt: skip
        frames.append(j.rename({"kind": "kind_before"}).select(list(DIFF_SCHEMA)))
    if not frames:
        return pl.DataFrame(schema=DIFF_SCHEMA)
    return pl.concat(frames).cast(DIFF_SCHEMA)  # type: ignore[arg-type]


# --- the escape ledger ---------------------------------------------------------------------

_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)")


def _mm(version: str) -> tuple[int, int]:
    m = _MAJOR_MINOR.match(version)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def prediction_for(pred: Mapping[str, Any], version: str) -> dict[str, Any]:
    """A prediction with its `since_go` overrides for `version` applied (greatest key <= it)."""
    out = {k: v for k, v in pred.items() if k != "since_go"}
    for key in sorted(pred.get("since_go", {}), key=_mm):
        if _mm(key) <= _mm(version):
            out.update(pred["since_go"][key])
    return out


LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "go": pl.String(),
    "case": pl.String(),
    "variant": pl.String(),
    "function": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "subject": pl.String(),
    "predicted": pl.String(),
    "compiler": pl.String(),
    "predicted_allocs": pl.Int64(),
    "benchmark": pl.String(),
    "allocs_op": pl.Float64(),
    "bytes_op": pl.Float64(),
    "verdict": pl.String(),
}


def compiler_decision(diags: pl.DataFrame, file: str, line: int, subject: str) -> str:
    """What the compiler decided for `subject` at file:line ("none" if it printed no decision)."""
    hits = diags.filter(
        pl.col("file").str.ends_with(f"/{file}") | (pl.col("file") == file),
        pl.col("line") == line,
        pl.col("subject") == subject,
        pl.col("kind").is_in(DECISION_KINDS),
    )["kind"].unique().sort().to_list()  # fmt: skip
    return ",".join(hits) if hits else "none"


def verdict(
    predicted: str, compiler: str, predicted_allocs: int | None, allocs: float | None
) -> str:
    """agree, escapes_not_allocated (constant or small-int boxing: a finding), prediction_wrong."""
    if compiler != predicted or (
        allocs is not None and predicted_allocs is not None and round(allocs) != predicted_allocs
    ):
        return "prediction_wrong"
    if compiler in ESCAPE_FAMILY and allocs is not None and round(allocs) == 0:
        return "escapes_not_allocated"
    return "agree"


def ledger(
    diags: pl.DataFrame,
    predictions: Sequence[Mapping[str, Any]],
    versions: Mapping[str, str],
    allocs: pl.DataFrame | None,
) -> pl.DataFrame:
    """One row per prediction x toolchain: prediction, compiler decision, measured allocs, verdict.

    versions: toolchain label -> Go version; allocs: (go, benchmark, allocs_op, bytes_op) or None.
    """
    rows = []
    for go, version in sorted(versions.items()):
        mine = diags.filter(pl.col("go") == go)
        for raw in predictions:
            p = prediction_for(raw, version)
            decided = compiler_decision(mine, p["file"], p["line"], p["subject"])
            a = b = None
            if allocs is not None and p.get("benchmark"):
                hit = allocs.filter((pl.col("go") == go) & (pl.col("benchmark") == p["benchmark"]))
                if hit.height:
                    a, b = hit["allocs_op"][0], hit["bytes_op"][0]
            rows.append({
                "go": go, "case": p["case"], "variant": p["variant"], "function": p["function"],
                "file": p["file"], "line": p["line"], "subject": p["subject"],
                "predicted": p["decision"], "compiler": decided,
                "predicted_allocs": p.get("allocs_per_call"), "benchmark": p.get("benchmark"),
                "allocs_op": a, "bytes_op": b,
                "verdict": verdict(p["decision"], decided, p.get("allocs_per_call"), a),
            })  # fmt: skip
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA)
