"""The cluster backend of the parallel search: the workers of a Dask distributed cluster.

Imported only when a cluster address is given (``--cluster ADDRESS`` or the
``DASK_SCHEDULER_ADDRESS`` environment variable), so that nothing of Dask is
loaded otherwise. The search is the one of ``checker.explore.parallel``: each
batch of frontier states becomes a Dask task, merged in order; the job (model, checks) is
sent to the workers once per scope. Workers need bufring installed (the same
version), as for any Dask task that calls a library; variants and properties
from users' files travel by value.

Why Dask and not Ray: Dask distributed is pure Python from PyPI (no compiled
wheels per platform), gives an in-process ``LocalCluster`` the tests use without
any service, and its ``Client.map``/``gather`` is exactly the batch-and-merge
shape this search needs. Ray brings a large compiled runtime and its own object
store, which this search does not use.
"""
from __future__ import annotations

import os
import socket
import sys

from bufring.model.errors import BadInput

ENV_VAR = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT = "10s"
PROBE_TIMEOUT = 5.0
USER_MODULES = "bufring_user_"
"""Prefix of the modules ``model.userfile`` makes of users' variant and property files."""


def cluster_address(flag: str | None) -> str | None:
    """The cluster to use: the flag's address, else the Dask environment variable."""
    return flag or os.environ.get(ENV_VAR) or None


def connect(address: str, source: str = "--cluster"):
    """A Dask client of the scheduler at ``address``; bad address: BadInput (exit 2)
    naming ``source``, where the address came from."""
    try:
        from distributed import Client
    except ImportError:
        raise BadInput(source, None, None,
                       'needs Dask distributed: pip install "bufring[cluster]"') from None
    _probe(address, source)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise BadInput(source, None, None, f"cannot reach a Dask scheduler at {address!r}: {reason}") from None


def _probe(address: str, source: str) -> None:
    """For a TCP address, try the port first: a Dask client that fails to connect
    leaves a half-made object whose cleanup at exit prints a traceback."""
    scheme, sep, rest = address.rpartition("://")
    if (scheme or "tcp") != "tcp":
        return
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=PROBE_TIMEOUT).close()
    except ValueError:
        raise BadInput(source, None, None, f"{address!r} is not host:port") from None
    except OSError as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise BadInput(source, None, None, f"cannot reach a Dask scheduler at {address!r}: {reason}") from None


def check_cluster(address: str, source: str = "--cluster") -> None:
    """Connect to the scheduler at ``address`` and leave: BadInput when that fails."""
    connect(address, source).close()


class DaskPool:
    """Batches of a level as Dask tasks, results in batch order."""

    def __init__(self, job, address: str, expand):
        self.expand = expand                      # parallel.expand, the task
        self.client = connect(address)
        import cloudpickle                        # Dask's pickler: send users' files by value,
        for name, module in list(sys.modules.items()):   # workers cannot import them
            if name.startswith(USER_MODULES):
                cloudpickle.register_pickle_by_value(module)
        self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                  self.client.scheduler_info()["workers"].values()))
        [self.job] = self.client.scatter([job], broadcast=True, hash=False)

    def submit(self, batch):
        """Start expanding ``batch`` on the cluster; returns a function that waits for it."""
        return self.client.submit(self.expand, self.job, batch, pure=False).result

    def close(self) -> None:
        self.client.close()
