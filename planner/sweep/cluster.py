"""The Dask cluster of a sweep: a LocalCluster only this process can use, or a running
scheduler's address checked before any work.

A LocalCluster's scheduler runs code sent to it, so it must not take commands from any
local process: it listens on 127.0.0.1 over TLS with temporary credentials
(:meth:`distributed.security.Security.temporary`, a key pair held in this process and
passed to its workers), and a client without them is refused. Dask's HTTP server (the
dashboard and its JSON info routes, by default on port 8787) is not started unless
``dashboard=True``.
"""

from __future__ import annotations

import logging
from typing import Any

from grids.tables import InputError
from planner.optimize.interrupts import ignored_by_new_processes

#: Where the dashboard listens with ``dcplan sweep --dashboard`` (this machine only).
DASHBOARD_ADDRESS = "127.0.0.1:8787"


def check_scheduler_address(address: str) -> str:
    """``address`` of a running Dask scheduler, checked: ``PROTOCOL://HOST:PORT``.

    Raises
    ------
    InputError
        Naming ``--scheduler`` and what is expected.
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    example = "expected PROTOCOL://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    text = address.strip()
    try:
        scheme, rest = parse_address(text, strict=True)
    except (ValueError, TypeError):
        raise InputError(f"--scheduler {address!r}: {example}") from None
    if scheme not in registry.backends or scheme == "inproc":
        known = ", ".join(sorted(b for b in registry.backends if b != "inproc"))
        raise InputError(f"--scheduler {address!r}: unknown protocol '{scheme}' (known: "
                         f"{known}); {example}")
    host, _, port = rest.rpartition(":")
    if not host or any(c.isspace() for c in rest) or not port.isdigit() \
            or not 0 < int(port) < 65536:
        raise InputError(f"--scheduler {address!r}: {example}")
    return text


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``.

    Raises
    ------
    InputError
        When the address is malformed or no scheduler answers there.
    """
    from distributed import Client

    address = check_scheduler_address(address)
    try:
        # not the default client: dcplan passes it around, and a failed connection must
        # not leave dask's configuration pointing at a scheduler that is not there
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"--scheduler {address!r}: cannot connect to a Dask scheduler "
                         f"({why})") from None


def local_cluster(n_workers: int, *, dashboard: bool = False) -> tuple[Any, Any]:
    """A ``distributed.LocalCluster`` of ``n_workers`` single-threaded processes that only
    this process can use (TLS, temporary credentials, 127.0.0.1), without an HTTP server
    unless ``dashboard`` (then the dashboard at :data:`DASHBOARD_ADDRESS`; needs bokeh),
    and its ``Client``. Close both when done.
    """
    import dask
    from distributed import Client, LocalCluster
    from distributed.security import Security

    if dashboard:
        try:
            import bokeh  # noqa: F401
        except ImportError:
            raise InputError("--dashboard needs the bokeh package (pip install bokeh)") \
                from None
    security = Security.temporary()  # needs the cryptography package
    # No routes on the HTTP servers Dask starts regardless (scheduler /info, /json, worker
    # /health …); the scheduler's own is stopped below.
    routes = {} if dashboard else {"distributed.scheduler.http.routes": [],
                                   "distributed.worker.http.routes": []}
    with dask.config.set(routes), ignored_by_new_processes():  # Ctrl-C is ours to act on
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", protocol="tls://", security=security,
                               dashboard_address=DASHBOARD_ADDRESS if dashboard else None,
                               silence_logs=logging.ERROR)
    try:
        client = Client(cluster, security=security, set_as_default=False)
        if not dashboard:
            cluster.sync(_stop_http, cluster.scheduler)
            client.run(_stop_http)  # each worker's, on the worker's event loop
    except BaseException:
        cluster.close()
        raise
    return cluster, client


async def _stop_http(dask_server: Any = None, dask_worker: Any = None) -> None:
    """Stop a scheduler's or worker's HTTP server (Dask starts one even without a
    dashboard)."""
    server = getattr(dask_worker or dask_server, "http_server", None)
    if server is not None:
        server.stop()
