"""This machine's fingerprint: the row the `bench` stage writes to the `hosts` dataset.

python -m stages.hosts          # print it (host label from params.yaml's `host`)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from releaselab.core import config, entry, hosts


def body(_: argparse.Namespace, cfg: config.Config) -> None:
    for k, v in hosts.fingerprint(cfg.host).items():
        print(f"{k}\t{v}")


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(body, argv, args=entry.parser("stages.hosts", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
