"""A real local Ray cluster for the fleet tests: a head that runs no job (no CPUs, no slot) and
one node per benchmark host, each advertising its one slot `host:<label>`."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from releaselab.core.executor import SLOT_PREFIX


@contextmanager
def cluster(host_labels: Sequence[str]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(cluster, {host label: node}) with ray.init connected to it; shut down on exit."""
    import ray  # noqa: PLC0415
    from ray.cluster_utils import Cluster  # noqa: PLC0415

    # a dead node is noticed within ~2 s instead of Ray's default ~30 s
    fast = {"health_check_period_ms": 500, "health_check_failure_threshold": 3}
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": fast})
    nodes = {h: add_host(c, h) for h in host_labels}
    ray.init(address=c.address, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield c, nodes
    finally:
        ray.shutdown()
        c.shutdown()  # type: ignore[no-untyped-call]


def add_host(c: Any, label: str) -> Any:
    node = c.add_node(num_cpus=1, resources={f"{SLOT_PREFIX}{label}": 1})
    c.wait_for_nodes()
    return node
