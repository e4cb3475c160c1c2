"""A TCP proxy that speaks just enough Kafka to break it on purpose.

Each client connection gets its own connection to the broker's PROXIED listener. The proxy
relays requests and responses frame by frame, and while a fault is switched on it:

* ``lose_requests``: cuts the connection instead of forwarding a request; nothing is written.
* ``fail_requests``: answers a Produce request itself with a retriable error; nothing is written.
* ``drop_responses``: lets the broker write, then cuts the connection instead of relaying the
  response, so the client cannot know the write happened.
* ``withhold_responses``: keeps responses back until the fault is switched off (or the client
  gives up and closes the connection).

Responses always reach the client in the order of its requests, as Kafka clients require
(kafka-python matches each response with its oldest request by correlation id).

Example:
    >>> with FaultProxy([Route("localhost", 9094, "localhost", 38601)]) as proxy:
    ...     with proxy.drop_responses("Produce", count=1) as fault:
    ...         ...  # a producer bootstrapped at proxy.bootstrap
    ...     fault.fired
    1
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from kafka.errors import for_code

from autograder.faults.framing import (
    Request,
    api_key,
    api_name,
    response_correlation_id,
    split_frames,
)

BIND_PATIENCE_S = 5.0  # a port in use by a proxy that is just closing frees up quickly
TICK_S = 0.05
EVENTS_KEPT = 200


class ProxyError(Exception):
    """The proxy could not start; str() says why and what to do."""


@dataclass(frozen=True)
class Route:
    """Where the proxy listens (the broker's advertised PROXIED address) and where it relays."""

    listen_host: str
    listen_port: int
    upstream_host: str
    upstream_port: int

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"


@dataclass
class Fault:
    """One fault while it is switched on. ``fired`` counts how often it struck."""

    kind: str
    api_key: int
    count: float  # how many times it may strike; inf = every time while on
    error_code: int = 0
    delay_s: float = 0.0
    fired: int = 0
    active: bool = True

    def matches(self, key: int) -> bool:
        return self.active and key == self.api_key and self.fired < self.count

    def describe(self) -> str:
        times = "every time" if self.count == float("inf") else f"{self.count:g} time(s)"
        return f"{self.kind} {api_name(self.api_key)} ({times}, struck {self.fired})"


@dataclass
class _Slot:
    """A response the client is waiting for, in request order."""

    correlation_id: int
    api_key: int
    response: bytes | None = None
    held_by: Fault | None = None
    release_at: float = 0.0  # monotonic time before which the response stays back


@dataclass
class _Link:
    """One client connection and its own connection to the broker."""

    number: int
    client: socket.socket
    upstream: socket.socket
    from_client: bytearray = field(default_factory=bytearray)
    from_upstream: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)
    to_upstream: bytearray = field(default_factory=bytearray)
    slots: deque = field(default_factory=deque)
    closed: bool = False

    def in_flight(self, key: int) -> int:
        return sum(1 for slot in self.slots if slot.api_key == key and slot.response is None)


class FaultProxy:
    """Relays client connections to the broker; faults are switched on with context managers.

    Start it with ``with FaultProxy(routes) as proxy`` (or start()/stop()); point clients at
    ``proxy.bootstrap``. Leaving the block closes every connection and the listening sockets.
    """

    def __init__(self, routes: list[Route]) -> None:
        if not routes:
            raise ProxyError("the fault proxy needs at least one route")
        self.routes = list(routes)
        self._faults: list[Fault] = []
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.counts: Counter = Counter()  # ("Produce", "forwarded") -> n, ...
        self.max_in_flight: Counter = Counter()  # "Produce" -> most requests awaiting answers
        self.requests_seen: Counter = Counter()  # "Produce" -> every request a client sent
        self.faults_fired: Counter = Counter()  # "drop-response" -> times any such fault struck
        self.events: deque = deque(maxlen=EVENTS_KEPT)
        self._connections = 0

    # ----- life cycle -------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """The address clients bootstrap from, so every connection goes through the proxy."""
        return ",".join(route.address for route in self.routes)

    def start(self) -> FaultProxy:
        try:
            for route in self.routes:
                listener = _listen(route)
                self._listeners.append(listener)
                self._selector.register(listener, selectors.EVENT_READ, ("listen", route))
        except BaseException:
            self._close_listeners()
            raise
        self._thread = threading.Thread(
            target=self._run, name="kafka-course-fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close everything; idempotent."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for link in list(self._links):
                self._close(link, "proxy stopped")
            for fault in self._faults:
                fault.active = False
            self._faults.clear()
        self._close_listeners()
        self._selector.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _close_listeners(self) -> None:
        for listener in self._listeners:
            try:
                self._selector.unregister(listener)
            except (KeyError, ValueError, RuntimeError):
                pass
            listener.close()
        self._listeners.clear()

    # ----- faults -----------------------------------------------------------------------------

    @contextmanager
    def _switched_on(self, fault: Fault) -> Iterator[Fault]:
        with self._lock:
            self._faults.append(fault)
        self.events.append(f"on: {fault.describe()}")
        try:
            yield fault
        finally:
            with self._lock:
                fault.active = False
                if fault in self._faults:
                    self._faults.remove(fault)
            self.events.append(f"off: {fault.describe()}")

    def lose_requests(self, api: str = "Produce", count: float = 1):
        """Cut the connection instead of forwarding the next ``count`` ``api`` requests."""
        return self._switched_on(Fault("lose-request", api_key(api), count))

    def fail_requests(
        self,
        api: str = "Produce",
        count: float = 1,
        error: str = "NOT_ENOUGH_REPLICAS",
        after_s: float = 0.0,
    ):
        """Answer the next ``count`` Produce requests with the broker error ``error`` (a Kafka
        error name) after ``after_s`` seconds, without forwarding them: the broker writes
        nothing. Requests sent meanwhile go through, their answers queued behind the error."""
        if api != "Produce":
            raise ValueError("only Produce requests can be failed by the proxy")
        return self._switched_on(
            Fault(
                "fail-request", api_key(api), count, error_code=_error_code(error), delay_s=after_s
            )
        )

    def drop_responses(self, api: str = "Produce", count: float = 1):
        """Forward the next ``count`` ``api`` requests, then cut the connection instead of
        relaying the broker's response: the broker did the work, the client never hears."""
        return self._switched_on(Fault("drop-response", api_key(api), count))

    def withhold_responses(self, api: str = "Produce"):
        """Keep every ``api`` response back while on; they flow again when it is switched off,
        unless the client has given up on the connection by then."""
        return self._switched_on(Fault("withhold-response", api_key(api), float("inf")))

    def _strike(self, fault: Fault, api: str, what: str) -> None:
        """Count one strike of ``fault``: on the fault itself and in the proxy's own totals,
        which outlive the fault being switched off."""
        fault.fired += 1
        self.faults_fired[fault.kind] += 1
        self.counts[(api, what)] += 1

    def _first_fault(self, kind: str, key: int) -> Fault | None:
        for fault in self._faults:
            if fault.kind == kind and fault.matches(key):
                return fault
        return None

    # ----- the relay loop ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                ready = self._selector.select(TICK_S)
            except (OSError, ValueError):
                return  # the selector was closed under us: we are stopping
            with self._lock:
                for key, mask in ready:
                    kind, target = key.data
                    sock = cast(socket.socket, key.fileobj)  # only sockets are registered
                    if kind == "listen":
                        self._accept(sock, target)
                    elif not target.closed:
                        self._service(target, sock, mask)
                for link in list(self._links):
                    if not link.closed:
                        self._release(link)
                        self._flush(link)

    def _accept(self, listener: socket.socket, route: Route) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(
                (route.upstream_host, route.upstream_port), timeout=2
            )
        except OSError as error:
            self.events.append(f"broker unreachable at {route.upstream_port}: {error}")
            client.close()
            return
        self._connections += 1
        link = _Link(self._connections, client, upstream)
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._selector.register(sock, selectors.EVENT_READ, ("link", link))
        self._links.append(link)

    def _service(self, link: _Link, sock: socket.socket, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._close(
                    link, "closed by the " + ("client" if sock is link.client else "broker")
                )
                return
            if data:
                if sock is link.client:
                    link.from_client += data
                    for frame in split_frames(link.from_client):
                        self._on_request(link, Request.parse(frame))
                        if link.closed:
                            return
                else:
                    link.from_upstream += data
                    for frame in split_frames(link.from_upstream):
                        self._on_response(link, frame)
                        if link.closed:
                            return
        if mask & selectors.EVENT_WRITE:
            self._flush(link)

    def _on_request(self, link: _Link, request: Request) -> None:
        api = request.api
        self.requests_seen[api] += 1
        fault = self._first_fault("lose-request", request.api_key)
        if fault:
            self._strike(fault, api, "lost")
            self._close(link, f"{api} request lost (correlation id {request.correlation_id})")
            return
        expects_response = request.expects_response
        fault = self._first_fault("fail-request", request.api_key) if expects_response else None
        if fault:
            self._strike(fault, api, "failed")
            link.slots.append(
                _Slot(
                    request.correlation_id,
                    request.api_key,
                    response=request.produce_error_response(fault.error_code),
                    release_at=time.monotonic() + fault.delay_s,
                )
            )
            self.events.append(
                f"link {link.number}: {api} request {request.correlation_id} "
                f"answered with {for_code(fault.error_code).__name__}"
            )
            return
        link.to_upstream += request.frame
        self.counts[(api, "forwarded")] += 1
        if not expects_response:  # acks=0: the client will never know what became of it
            self.counts[(api, "sent without waiting for an answer")] += 1
        if expects_response:
            link.slots.append(_Slot(request.correlation_id, request.api_key))
            self.max_in_flight[api] = max(self.max_in_flight[api], link.in_flight(request.api_key))

    def _on_response(self, link: _Link, frame: bytes) -> None:
        correlation_id = response_correlation_id(frame)
        slot = next((s for s in link.slots if s.response is None), None)
        if slot is None or slot.correlation_id != correlation_id:
            self._close(link, f"unexpected response {correlation_id} from the broker")
            return
        api = api_name(slot.api_key)
        fault = self._first_fault("drop-response", slot.api_key)
        if fault:
            self._strike(fault, api, "dropped")
            self._close(link, f"{api} response {correlation_id} dropped after the broker answered")
            return
        slot.response = frame
        fault = self._first_fault("withhold-response", slot.api_key)
        if fault:
            self._strike(fault, api, "withheld")
            slot.held_by = fault

    def _release(self, link: _Link) -> None:
        """Hand the client every answered response at the head of the queue, in order."""
        while link.slots and link.slots[0].response is not None:
            slot = link.slots[0]
            if slot.held_by is not None and slot.held_by.active:
                break
            if slot.release_at > time.monotonic():
                break
            link.slots.popleft()
            link.to_client += slot.response
            self.counts[(api_name(slot.api_key), "relayed")] += 1

    def _flush(self, link: _Link) -> None:
        for sock, buffer in ((link.upstream, link.to_upstream), (link.client, link.to_client)):
            while buffer:
                try:
                    sent = sock.send(buffer)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    self._close(link, "connection reset")
                    return
                del buffer[:sent]
        for sock, write in (
            (link.upstream, bool(link.to_upstream)),
            (link.client, bool(link.to_client)),
        ):
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
            try:
                self._selector.modify(sock, events, ("link", link))
            except (KeyError, ValueError):
                pass

    def _close(self, link: _Link, why: str) -> None:
        if link.closed:
            return
        link.closed = True
        self.events.append(f"link {link.number}: {why}")
        for sock in (link.client, link.upstream):
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError, RuntimeError):
                pass
            sock.close()
        if link in self._links:
            self._links.remove(link)

    # ----- what happened ----------------------------------------------------------------------

    def summary(self, api: str = "Produce") -> dict[str, int]:
        """What the proxy did with ``api`` requests and responses so far."""
        found = {what: n for (name, what), n in self.counts.items() if name == api}
        found["most in flight"] = self.max_in_flight[api]
        return found

    def report(self) -> dict:
        """Everything the proxy counted, JSON-safe: the requests it saw by API, the strikes of
        each kind of fault, and the Produce summary. A check records it as evidence that the
        learner's client went through the fault (and met it).

        Example:
            >>> proxy.report()
            {'requests': {'Metadata': 2, 'Produce': 3}, 'faults fired': {'drop-response': 2},
             'Produce': {'forwarded': 3, 'dropped': 2, 'relayed': 1, 'most in flight': 1},
             'connections': 3}
        """
        with self._lock:
            return {
                "requests": dict(sorted(self.requests_seen.items())),
                "faults fired": dict(sorted(self.faults_fired.items())),
                "Produce": self.summary("Produce"),
                "connections": self._connections,
            }


def _error_code(name: str) -> int:
    from kafka import errors

    for value in vars(errors).values():
        if isinstance(value, type) and getattr(value, "message", None) == name:
            return int(cast(Any, value).errno)
    raise ValueError(f"no Kafka error is called {name!r}")


def _listen(route: Route) -> socket.socket:
    """A listening socket on the route's address; waits a little for a port being released."""
    deadline = time.monotonic() + BIND_PATIENCE_S
    host = "127.0.0.1" if route.listen_host in ("localhost", "") else route.listen_host
    while True:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, route.listen_port))
            listener.listen(16)
            listener.setblocking(False)
            return listener
        except OSError as error:
            listener.close()
            if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise ProxyError(
                    f"the fault proxy cannot listen on {route.address} ({error.strerror}); "
                    "is another program using that port? Stop it, then run this cell again."
                ) from None
            time.sleep(0.1)
