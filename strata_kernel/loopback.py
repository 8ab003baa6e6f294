"""Free loopback ports, for the tools that start a stack of their own beside others on one shared machine."""

from __future__ import annotations

import random
import socket


def port_free(port: int, *, as_a_server: bool = False) -> bool:
    """``as_a_server``: bind as the servers do (SO_REUSEADDR), so a closed connection's TIME_WAIT on the port
    does not make it look busy."""
    with socket.socket() as probe:
        if as_a_server:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_run(length: int) -> int:
    """The first port of ``length`` consecutive free ports (the sidecars use base + the service's number).

    Drawn at random: other stacks on this machine look for a run at the same time, and a first-fit search would
    hand every one of them the same ports."""
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(20000, 32000)
        if all(port_free(base + i) for i in range(length)):
            return base
    raise RuntimeError("no run of free ports")
