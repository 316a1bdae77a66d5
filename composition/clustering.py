"""Make a ``--role worker`` on a PostgreSQL store a cluster member (cluster/), and ask who leads."""
from __future__ import annotations

from cluster import leases
from cluster.node import Node
from composition.runtime import Runtime


def attach(runtime: Runtime) -> Node | None:
    """Make a ``--role worker`` on PostgreSQL a cluster member; anything else is left as is."""
    sched = runtime.scheduler
    if runtime.role != "worker" or sched is None or runtime.store.engine.dialect.name != "postgresql":
        return None
    leases.create(runtime.store.engine)
    intervals = {name: c.target.interval for name, c in sched.collectors.items()}
    node = Node(runtime.store, sched.worker_id, intervals, runtime.snapshot, clock=runtime.clock)
    node.soon = sched.collect_soon
    sched.collect_gate = node.may_collect
    sched.maintenance_gate = lambda: node.leads("maintenance")
    sched.heartbeat_info = node.info
    sched.add_periodic("cluster:tick", node.tick, node.tick_seconds)
    runtime.cluster = node
    runtime.before_start.append(node.tick)  # know the live workers before the first collection
    runtime.after_stop.append(node.stop)
    return node


def leads(runtime: Runtime, role: str, fresh: bool = True) -> bool:
    """Whether this process should do ``role`` now: always, unless it is a cluster worker."""
    node = runtime.cluster
    return node is None or node.leads(role, fresh)
