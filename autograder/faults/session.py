"""Finding the broker's PROXIED listener, and running one fault proxy at a time on it.

The proxy must listen on the address the broker advertises, so only one proxy per broker can
run at a time, machine-wide: a lock file serialises them (another notebook's proxy waits for
this one to finish). A check that injects faults starts a *timed* proxy in ``prepare`` and stops
it in ``judge``; a watchdog stops it anyway when the learner's function never returns.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder.broker.config import PROXIED_LISTENER
from autograder.faults.proxy import FaultProxy, ProxyError, Route
from autograder.grading import kafka_io

LOCK_PATIENCE_S = 40.0


class FaultsUnavailable(Exception):
    """The broker has no PROXIED listener, so no fault can be injected; str() says what to do."""


def _parse_listeners(text: str | None) -> dict[str, tuple[str, int]]:
    """ "NAME://host:port,..." -> {NAME: (host, port)}."""
    found = {}
    for item in (text or "").split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        if name and port.isdigit():
            found[name] = (host.strip("[]"), int(port))
    return found


def find_routes(bootstrap: str) -> list[Route]:
    """One route per broker: from its advertised PROXIED address to the port it listens on."""
    configs = kafka_io.broker_configs(bootstrap, ["listeners", "advertised.listeners"])
    fallback_host = bootstrap.split(",")[0].rpartition(":")[0] or "localhost"
    routes = []
    for node, config in sorted(configs.items()):
        bound = _parse_listeners(config.get("listeners")).get(PROXIED_LISTENER)
        advertised = _parse_listeners(config.get("advertised.listeners")).get(PROXIED_LISTENER)
        if bound is None or advertised is None:
            raise FaultsUnavailable(
                f"the broker at {bootstrap} (node {node}) has no {PROXIED_LISTENER} listener, so "
                "the fault proxy cannot sit between it and a client. A broker started before "
                "lesson 04 existed lacks it: restart it with `kafka-course broker down` then "
                "`kafka-course broker up`, then run this cell again."
            )
        upstream_host = bound[0] if bound[0] not in ("", "0.0.0.0", "::") else fallback_host
        routes.append(Route(advertised[0] or "localhost", advertised[1], upstream_host, bound[1]))
    return routes


@contextlib.contextmanager
def _port_lock(routes: list[Route], patience_s: float) -> Iterator[None]:
    """Hold the machine-wide lock of these listen ports, waiting up to ``patience_s``."""
    ports = "-".join(str(route.listen_port) for route in routes)
    path = Path(tempfile.gettempdir()) / f"kafka-course-fault-proxy-{ports}.lock"
    handle = open(path, "a")
    try:
        deadline = time.monotonic() + patience_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ProxyError(
                        f"another fault proxy kept {ports} busy for {patience_s:g} s (pid in "
                        f"{path}); wait for that notebook's cell to finish, then run this cell "
                        "again."
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock, also when the process dies


_timed: dict[str, tuple[contextlib.ExitStack, FaultProxy]] = {}
_timed_guard = threading.Lock()


@contextlib.contextmanager
def fault_proxy(bootstrap: str, patience_s: float = LOCK_PATIENCE_S) -> Iterator[FaultProxy]:
    """A running fault proxy in front of the broker at ``bootstrap``; stopped on leaving."""
    routes = find_routes(bootstrap)
    for key in list(_timed):  # a check's proxy left in this process gives way at once
        stop_timed(key)
    with _port_lock(routes, patience_s), FaultProxy(routes) as proxy:
        yield proxy


def start_timed(
    key: str, bootstrap: str, arm: Callable[[FaultProxy], list], lifetime_s: float
) -> FaultProxy:
    """Start a proxy under ``key`` with the faults ``arm(proxy)`` switches on; it stops at
    ``stop_timed(key)`` or after ``lifetime_s``, whichever comes first."""
    stop_timed(key)
    stack = contextlib.ExitStack()
    try:
        proxy = stack.enter_context(fault_proxy(bootstrap))
        for fault in arm(proxy):
            stack.enter_context(fault)
    except BaseException:
        stack.close()
        raise
    with _timed_guard:
        _timed[key] = (stack, proxy)
    watchdog = threading.Timer(lifetime_s, stop_timed, args=(key,))
    watchdog.daemon = True
    watchdog.start()
    stack.callback(watchdog.cancel)
    return proxy


def stop_timed(key: str) -> FaultProxy | None:
    """Stop the timed proxy under ``key``, if it still runs, and return it: its counters
    (``report()``) stay readable after the stop. None when no proxy ran under ``key``."""
    with _timed_guard:
        entry = _timed.pop(key, None)
    if entry is None:
        return None
    stack, proxy = entry
    stack.close()
    return proxy
