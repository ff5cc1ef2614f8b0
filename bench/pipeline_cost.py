"""What the pipeline itself costs: DVC and Python overhead over the Go processes, no-op runs,
data size per cell and peak memory per stage.

Runs the real pipeline in a scratch copy of the repo (like tests/test_pipeline.py) with a
composition of conf/ (`--config default`, `--config all` or `--config stdlib`, `--gomaxprocs`,
extra Hydra `--override`s), then measures:

- overhead: wall time of `dvc repro` / summed wall time of the Go processes it starts (every one
  goes through releaselab.core.gocmd, which logs it when GO_RELEASE_LAB_PROCLOG is set);
  target <= 1.15;
- a no-op `dvc repro` (target < 5 s) and `dvc status` (target < 2 s), median of `--repeats`;
- the size of data/ per dataset cell (data/<kind>/<dataset>/go=X[/gomaxprocs=N]) and of the DVC
  cache;
- the peak memory of each stage: `python` on the stage's PATH is a shim that runs the real
  interpreter and reads the kernel's rusage of it with os.wait4 (ru_maxrss: the largest of the
  stage's Python process and every process it started); target <= 2 GiB.

    python bench/pipeline_cost.py [--config default|all|stdlib] [--gomaxprocs 1,2,3,4]
        [--override bench.rounds=2 ...] [--keep DIR] [--reuse DIR] [--json FILE]

The toolchains are installed before the timed run (pip downloads are not the pipeline's cost).
`--reuse DIR` skips the full run and measures no-op, status and sizes of a kept scratch repo.
Linux (or any Unix with os.wait4); needs git and the project's .venv.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from releaselab.core import config, gocmd, toolchains  # noqa: E402
from tests.helpers import scratch  # noqa: E402

CONFIGS = {"default": [], "all": ["go=all"], "stdlib": ["targets=stdlib"]}
STAGE_MODULES = ("toolchains", "build", "escape", "bench", "ledger", "stack", "sched", "report")
TARGETS = {
    "overhead": 1.15,
    "noop_repro_s": 5.0,
    "status_s": 2.0,
    "peak_rss_gib": 2.0,
    "stdlib_repro_s": 900.0,
}  # issue 12: targets=stdlib, 3 toolchains, < 15 minutes

# The stage's `python`: run the real interpreter as a child, wait4 it, log wall and max RSS.
SHIM = """#!{python} -IS
import json, os, sys, time
t0, start = time.monotonic(), time.time()
pid = os.fork()
if pid == 0:
    os.execv({real!r}, [{real!r}, *sys.argv[1:]])
_, status, ru = os.wait4(pid, 0)
rec = {{"argv": sys.argv[1:], "pid": pid, "start": start, "wall_s": round(time.monotonic() - t0, 6),
       "maxrss_kib": ru.ru_maxrss, "exit": os.waitstatus_to_exitcode(status)}}
with open({log!r}, "a") as f:
    f.write(json.dumps(rec) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def make_scratch(work: Path, overrides: list[str]) -> None:
    """A copy of the repo's pipeline with params.yaml composed from `overrides`, in a git repo."""
    scratch.make(work, overrides)
    (work / ".cost").mkdir()
    (work / ".cost" / "overrides.json").write_text(json.dumps(overrides), encoding="utf-8")


def install_shim(work: Path) -> tuple[Path, Path]:
    """The `python` shim directory and the stage log it appends to."""
    bindir = work / ".cost" / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    log = work / ".cost" / "stages.jsonl"
    real = str(Path(sys.executable).parent / "python")
    shim = bindir / "python"
    shim.write_text(SHIM.format(python=sys.executable, real=real, log=str(log)), encoding="utf-8")
    shim.chmod(0o755)
    return bindir, log


def env_for(work: Path, proclog: Path | None) -> dict[str, str]:
    bindir = work / ".cost" / "bin"
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}:{venv_bin}:{os.environ['PATH']}")
    env["GO_RELEASE_LAB_PYTHON"] = str(bindir / "python")  # bin/stage runs the shim
    env.pop(gocmd.PROCLOG_ENV, None)
    if proclog is not None:
        env[gocmd.PROCLOG_ENV] = str(proclog)
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path | None = None) -> float:
    """Wall seconds of one command; its output goes to `log` (or is discarded); fails loudly."""
    out = log.open("a", encoding="utf-8") if log else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        res = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=out, check=False)
        wall = time.monotonic() - t0
    finally:
        if log and not isinstance(out, int):
            out.close()
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {res.returncode}); see {log}")
    return wall


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln]


def stage_name(argv: list[str]) -> str:
    """`-m stages.sched 1.27.3 2` -> `sched@1.27.3-2` (DVC's name for the stage)."""
    if len(argv) >= 2 and argv[0] == "-m" and argv[1].startswith("stages."):
        mod, rest = argv[1].removeprefix("stages."), argv[2:]
        return f"{mod}@{'-'.join(rest)}" if rest else mod
    return " ".join(argv)


def per_stage(stages: list[dict[str, Any]], procs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stage run: its wall, the Go processes' wall inside it, and its peak RSS."""
    go_wall: dict[int, float] = defaultdict(float)
    go_n: dict[int, int] = defaultdict(int)
    go_rss: dict[int, int] = defaultdict(int)
    for p in procs:
        go_wall[p["stage_pid"]] += p["wall_s"]
        go_n[p["stage_pid"]] += 1
        go_rss[p["stage_pid"]] = max(go_rss[p["stage_pid"]], p["children_maxrss_kib"])
    return [
        {
            "stage": stage_name(s["argv"]),
            "wall_s": s["wall_s"],
            "go_wall_s": round(go_wall[s["pid"]], 3),
            "go_processes": go_n[s["pid"]],
            "python_s": round(s["wall_s"] - go_wall[s["pid"]], 3),
            "peak_rss_mib": round(s["maxrss_kib"] / 1024, 1),
            "largest_go_rss_mib": round(go_rss[s["pid"]] / 1024, 1),
        }
        for s in stages
        if s["argv"][:1] == ["-m"]
    ]


def dvc_gaps(
    started: float, wall: float, stages: list[dict[str, Any]]
) -> tuple[float, float, float]:
    """DVC's own time: before the first stage starts, between stages, after the last one."""
    runs = sorted((s["start"], s["start"] + s["wall_s"]) for s in stages if s["argv"][:1] == ["-m"])
    if not runs:
        return (round(wall, 2), 0.0, 0.0)
    between = sum(b[0] - a[1] for a, b in itertools.pairwise(runs))
    return (
        round(runs[0][0] - started, 2),
        round(between, 2),
        round(started + wall - runs[-1][1], 2),
    )


def du(path: Path) -> int:
    """Bytes of the regular files under path (apparent size, links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def cell_sizes(data: Path) -> list[dict[str, Any]]:
    """Size of every dataset cell: data/<kind>/<dataset>/go=X[/gomaxprocs=N]."""
    rows = []
    for kind in sorted(p for p in data.iterdir() if p.is_dir()):
        for ds in sorted(p for p in kind.iterdir() if p.is_dir()):
            gos = sorted(ds.glob("go=*"))
            cells = [c for g in gos for c in (sorted(g.glob("gomaxprocs=*")) or [g])]
            for cell in cells or [ds]:
                rows.append({"dataset": f"{kind.name}/{ds.name}",
                             "cell": str(cell.relative_to(ds)), "bytes": du(cell)})  # fmt: skip
    return rows


def size_summary(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[str, list[int]] = defaultdict(list)
    for c in cells:
        by[c["dataset"]].append(c["bytes"])
    return [
        {"dataset": ds, "cells": len(v), "median_cell_mib": round(statistics.median(v) / 2**20, 3),
         "max_cell_mib": round(max(v) / 2**20, 3), "total_mib": round(sum(v) / 2**20, 2)}
        for ds, v in sorted(by.items())
    ]  # fmt: skip


def import_costs(env: dict[str, str], cwd: Path, repeats: int) -> dict[str, float]:
    """Median seconds of `python -c 'import stages.X'` per stage module (interpreter included)."""
    py = str(Path(sys.executable).parent / "python")
    out = {}
    for mod in ["", *STAGE_MODULES]:
        code = f"import stages.{mod}" if mod else "pass"
        walls = [timed([py, "-c", code], cwd, env) for _ in range(repeats)]
        out[mod or "(bare interpreter)"] = round(statistics.median(walls), 3)
    return out


def shim_cost(work: Path, env: dict[str, str], repeats: int) -> float:
    """Median extra seconds the shim adds to one `python -c pass`."""
    py = str(Path(sys.executable).parent / "python")
    shim = str(work / ".cost" / "bin" / "python")
    real = statistics.median(timed([py, "-c", "pass"], work, env) for _ in range(repeats))
    shimmed = statistics.median(timed([shim, "-c", "pass"], work, env) for _ in range(repeats))
    return round(shimmed - real, 4)


def measure(work: Path, args: argparse.Namespace, overrides: list[str]) -> dict[str, Any]:
    cost = work / ".cost"
    proclog, stagelog, dvclog = cost / "go.jsonl", cost / "stages.jsonl", cost / "dvc.log"
    dvc = [sys.executable, "-m", "dvc"]
    res: dict[str, Any] = {"overrides": overrides, "scratch": str(work)}
    cfg = config.load(work / "params.yaml")
    res["toolchains"], res["gomaxprocs"] = list(cfg.go.labels), list(cfg.sweep.gomaxprocs)
    if not args.reuse:
        for tc in cfg.go.toolchains:  # install outside the timed run
            if tc.version:
                toolchains.install(tc.version)
        print(f"dvc repro in {work} ...", flush=True)
        for log in (proclog, stagelog):
            log.unlink(missing_ok=True)
        started = time.time()
        wall = timed([*dvc, "repro"], work, env_for(work, proclog), dvclog)
        procs, stages = read_jsonl(proclog), read_jsonl(stagelog)
        gaps = dvc_gaps(started, wall, stages)
        go_sum = sum(p["wall_s"] for p in procs)
        stage_sum = sum(s["wall_s"] for s in stages)
        rows = per_stage(stages, procs)
        res["repro"] = {
            "wall_s": round(wall, 2),
            "go_processes": len(procs),
            "go_wall_s": round(go_sum, 2),
            "overhead": round(wall / go_sum, 3) if go_sum else None,
            "stages": len(rows),
            "stage_wall_s": round(stage_sum, 2),
            "dvc_own_s": round(wall - stage_sum, 2),
            "dvc_before_first_stage_s": gaps[0],
            "dvc_between_stages_s": gaps[1],
            "dvc_after_last_stage_s": gaps[2],
            "python_in_stages_s": round(stage_sum - go_sum, 2),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
            "per_stage": rows,
        }
        print(json.dumps({k: v for k, v in res["repro"].items() if k != "per_stage"}), flush=True)
    env = env_for(work, None)
    before = len(read_jsonl(stagelog))
    res["noop_repro_s"] = [round(timed([*dvc, "repro"], work, env, dvclog), 2)
                           for _ in range(args.repeats)]  # fmt: skip
    res["status_s"] = [round(timed([*dvc, "status"], work, env, dvclog), 2)
                       for _ in range(args.repeats)]  # fmt: skip
    res["noop_stages_run"] = len(read_jsonl(stagelog)) - before  # must be 0
    cells = cell_sizes(work / "data")
    res["data_cells"] = cells
    res["data_summary"] = size_summary(cells)
    res["data_total_mib"] = round(du(work / "data") / 2**20, 1)
    res["dvc_cache_mib"] = round(du(work / ".dvc" / "cache") / 2**20, 1)
    res["import_s"] = import_costs(env, work, args.repeats)
    res["shim_s_per_stage"] = shim_cost(work, env, max(args.repeats, 5))
    return res


def render(res: dict[str, Any]) -> str:
    """The results as Markdown tables (what docs/COST.md quotes)."""
    lines = [f"config: {' '.join(res['overrides']) or '(default)'}; toolchains "
             f"{', '.join(res['toolchains'])}; GOMAXPROCS {res['gomaxprocs']}", ""]  # fmt: skip
    rep = res.get("repro")
    if rep:
        lines += [
            "| measure | value | target |",
            "| --- | --- | --- |",
            f"| `dvc repro` wall | {rep['wall_s']} s | "
            + (
                f"< {TARGETS['stdlib_repro_s']:g} s |"
                if "targets=stdlib" in res["overrides"]
                else "|"
            ),
            f"| Go processes (n, summed wall) | {rep['go_processes']}, {rep['go_wall_s']} s | |",
            f"| overhead (repro / Go) | {rep['overhead']} | <= {TARGETS['overhead']} |",
            f"| DVC's own time (repro - stage processes) | {rep['dvc_own_s']} s | |",
            f"| ... of it before the first stage, between stages, after the last "
            f"| {rep['dvc_before_first_stage_s']} s, {rep['dvc_between_stages_s']} s, "
            f"{rep['dvc_after_last_stage_s']} s | |",
            f"| Python in stages (stages - Go) | {rep['python_in_stages_s']} s | |",
            f"| peak RSS of any stage | {rep['peak_rss_mib']} MiB | <= 2048 MiB |",
        ]
    lines += [
        f"| no-op `dvc repro` | {min(res['noop_repro_s'])} s (runs: {res['noop_repro_s']}) "
        f"| < {TARGETS['noop_repro_s']} s |",
        f"| `dvc status` | {min(res['status_s'])} s (runs: {res['status_s']}) "
        f"| < {TARGETS['status_s']} s |",
        f"| stages run by the no-op repros | {res['noop_stages_run']} | 0 |",
        f"| data/ total; DVC cache | {res['data_total_mib']} MiB; {res['dvc_cache_mib']} MiB | |",
        "",
    ]
    if rep:
        lines += ["| stage | wall s | Go s (n) | Python s | peak RSS MiB | largest Go MiB |",
                  "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        lines += [f"| {r['stage']} | {r['wall_s']:.2f} | {r['go_wall_s']:.2f} "
                  f"({r['go_processes']}) | {r['python_s']:.2f} | {r['peak_rss_mib']} "
                  f"| {r['largest_go_rss_mib']} |" for r in rep["per_stage"]]  # fmt: skip
        lines.append("")
    lines += ["| dataset | cells | median cell MiB | max cell MiB | total MiB |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    lines += [f"| {d['dataset']} | {d['cells']} | {d['median_cell_mib']} | {d['max_cell_mib']} "
              f"| {d['total_mib']} |" for d in res["data_summary"]]  # fmt: skip
    lines += ["", "| import | s |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in res["import_s"].items()]
    lines += ["", f"shim cost per stage: {res['shim_s_per_stage']} s"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="default")
    ap.add_argument("--gomaxprocs", help="comma-separated, e.g. 1,2,3,4 (default: conf/)")
    ap.add_argument("--override", nargs="*", default=[], help="more Hydra overrides")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each no-op measurement")
    ap.add_argument("--keep", type=Path, help="scratch directory to create and keep")
    ap.add_argument("--reuse", type=Path, help="a kept scratch repo: skip the full run")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args(argv)
    overrides = list(CONFIGS[args.config])
    if args.gomaxprocs:
        overrides.append(f"sweep.gomaxprocs=[{args.gomaxprocs}]")
    overrides += args.override
    tmp = None
    if args.reuse:
        work = args.reuse.resolve()
        overrides = json.loads((work / ".cost" / "overrides.json").read_text(encoding="utf-8"))
    elif args.keep:
        work = args.keep.resolve()
        work.mkdir(parents=True, exist_ok=False)
    else:
        tmp = tempfile.mkdtemp(prefix="pipeline-cost-")
        work = Path(tmp)
    try:
        if not args.reuse:
            make_scratch(work, overrides)
        install_shim(work)
        res = measure(work, args, overrides)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(render(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
