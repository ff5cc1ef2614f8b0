"""Write the docs that come from the dataset catalog: docs/DATA.md and the README's data table.

python -m devtools.catalog          # rewrite both
python -m devtools.catalog --check  # exit 1 if either is stale (what the test checks)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from releaselab.core import catalog, entry
from releaselab.core.paths import REPO

DATA_MD = REPO / "docs" / "DATA.md"
README = REPO / "README.md"
START, END = "<!-- catalog:start -->\n", "<!-- catalog:end -->\n"


def with_table(readme: str, table: str) -> str:
    """The README with the text between the catalog markers replaced by `table`."""
    head, sep, rest = readme.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"README.md lacks the {START.strip()} ... {END.strip()} markers")
    return head + START + table + END + tail


def wanted() -> dict[Path, str]:
    return {
        DATA_MD: catalog.dictionary(),
        README: with_table(README.read_text(encoding="utf-8"), catalog.readme_table()),
    }


def body(args: argparse.Namespace) -> int:
    if args.check:
        stale = [
            p for p, text in wanted().items() if not p.is_file() or p.read_text("utf-8") != text
        ]
        for p in stale:
            print(f"{p.relative_to(REPO)} is stale: run `python -m devtools.catalog`")
        return 1 if stale else 0
    for p, text in wanted().items():
        p.write_text(text, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("devtools.catalog", __doc__)
    args.add_argument("--check", action="store_true", help="fail if a generated doc is stale")
    return entry.run_tool(body, argv, args=args)


if __name__ == "__main__":
    sys.exit(main())
