"""The configuration: print, check or write a Hydra composition of conf/.

python -m stages.config show [overrides...]    # print a composition
python -m stages.config check [overrides...]   # validate one
python -m stages.config dump [overrides...]    # rewrite params.yaml the way `dvc exp run` does
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from releaselab.core import config, entry
from releaselab.core.paths import PARAMS, REPO


def body(args: argparse.Namespace) -> None:
    if args.command == "show":
        sys.stdout.write(config.compose_yaml(args.overrides))
    elif args.command == "check":
        cfg = config.compose(args.overrides)
        shown = (["labs"] if cfg.targets.labs else []) + [
            f"{t.label} ({t.source} {t.ref})" for t in cfg.targets.specs
        ]
        sys.stdout.write(
            f"ok: {len(cfg.go.toolchains)} toolchains ({', '.join(cfg.go.labels)}), "
            f"GOMAXPROCS {list(cfg.sweep.gomaxprocs)}, baseline {cfg.baseline}; "
            f"targets: {', '.join(shown) or 'none'}\n"
        )
    else:
        text = config.compose_yaml(args.overrides)
        config.validate(config.parse_yaml(text, "composition"), "composition")
        PARAMS.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {PARAMS.relative_to(REPO)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("stages.config", __doc__)
    args.add_argument("command", choices=["show", "check", "dump"])
    args.add_argument(
        "overrides", nargs="*", help="Hydra overrides, e.g. go=all sweep.gomaxprocs=[1]"
    )
    return entry.run_tool(body, argv, args=args)


if __name__ == "__main__":
    raise SystemExit(main())
