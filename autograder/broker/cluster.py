"""A real multi-broker Kafka cluster on this machine: one KRaft controller and n brokers.

Each node is its own JVM running kafka.Kafka, so stopping a broker is a real process stopping
(SIGTERM: a controlled shutdown; or SIGKILL: a crash). The controller is a separate process
that stays up, so the cluster keeps its metadata quorum while brokers come and go, and partition
leaders and in-sync replica sets change exactly as on a production cluster.

A lesson notebook starts its own cluster on free ports in a throw-away folder, which never
touches the course broker on 9092; its processes die with the notebook's kernel:

    >>> from autograder.broker.cluster import start_cluster
    >>> cluster = start_cluster()                # 3 brokers, ~10-20 s
    >>> cluster.bootstrap
    'localhost:40411,localhost:40412,localhost:40413'
    >>> with cluster.stopped(2):                 # broker 2 down inside the block only
    ...     ...
    >>> cluster.shutdown()                       # every node stopped, folder removed

`kafka-course broker up --nodes 3` runs the same kind of cluster, detached, in the course's
state dir (see control.py).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.broker import processes
from autograder.broker.cds import archive_path
from autograder.broker.cluster_files import (
    CONTROLLER_ID,
    ClusterLayout,
    ensure_node_formatted,
    existing_cluster_id,
    render_node_properties,
)
from autograder.broker.errors import BrokerError
from autograder.broker.jars import kafka_jars
from autograder.broker.java_runtime import find_java
from autograder.broker.jvm import broker_command, log_tail
from autograder.broker.ports import free_port, port_in_use_error, port_is_free
from autograder.broker.probe import probe, wait_until_ready
from autograder.broker.storage import kafka_uuid

DEFAULT_BROKERS = 3
BROKER_OPTIONS = ["-Xmx256m", "-Xms256m"]  # after jvm.py's -Xmx512m, so these win
CONTROLLER_OPTIONS = ["-Xmx192m", "-Xms192m"]
START_TIMEOUT_SECONDS = 90  # the whole cluster, on a busy 2-core laptop
NODE_START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20  # controlled shutdown; then SIGKILL
SCRATCH_PREFIX = "kafka-course-cluster-"
LOG_TAIL_LINES = 15
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class NodeState:
    """One node of the cluster as its process table says.

    Attributes:
        node: the Kafka node.id (the controller is 0, brokers are 1..n).
        role: "controller" or "broker".
        address: "localhost:port" of a broker's client listener (the controller's for it).
        pid: the JVM's process id while it runs, else None.
    """

    node: int
    role: str
    address: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def describe(self) -> str:
        """One line, e.g. "broker 2 at localhost:9093: running (pid 4242)"."""
        name = "controller" if self.role == "controller" else f"broker {self.node}"
        state = f"running (pid {self.pid})" if self.pid else "stopped"
        return f"{name} at {self.address}: {state}"


class Cluster:
    """A handle on the cluster whose files are under `root`; every call reads its state afresh.

    Stopping and starting are idempotent and bounded in time: stopping a stopped broker or
    starting a running one does nothing.
    """

    def __init__(self, root: Path | str) -> None:
        self.layout = ClusterLayout(Path(root))

    def __repr__(self) -> str:
        return f"Cluster({self.bootstrap!r})"

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    @property
    def record(self) -> dict:
        return self.layout.read_record()

    @property
    def bootstrap(self) -> str:
        """Every broker's address, comma-separated, as clients take bootstrap_servers."""
        return ",".join(f"localhost:{port}" for port in self.record.get("ports", []))

    @property
    def brokers(self) -> tuple[int, ...]:
        """The brokers' node ids: (1, 2, 3) for three brokers."""
        return tuple(range(1, self.record.get("nodes", 0) + 1))

    def address(self, broker: int) -> str:
        return f"localhost:{self.record['ports'][self._broker_index(broker)]}"

    def nodes(self) -> list[NodeState]:
        """The controller, then each broker, with its pid when it runs."""
        record = self.record
        if not record:
            return []
        states = [
            NodeState(
                CONTROLLER_ID,
                "controller",
                f"localhost:{record['controller_port']}",
                self._pid(CONTROLLER_ID),
            )
        ]
        for broker in self.brokers:
            states.append(NodeState(broker, "broker", self.address(broker), self._pid(broker)))
        return states

    def running_brokers(self) -> list[int]:
        return [broker for broker in self.brokers if self._pid(broker) is not None]

    def stop_node(
        self, broker: int, crash: bool = False, timeout: float = STOP_TIMEOUT_SECONDS
    ) -> bool:
        """Stop one broker; True if it was running.

        crash=False sends SIGTERM: Kafka's controlled shutdown, in which the broker first asks
        the controller to move its partition leaderships away. crash=True sends SIGKILL, as a
        power cut would: the controller notices only when heartbeats stop (after the session
        timeout, 4 s here). A graceful stop that takes longer than `timeout` becomes a SIGKILL.
        """
        self._broker_index(broker)
        return _stop_process(self.layout, broker, crash, timeout)

    def start_node(self, broker: int, timeout: float = NODE_START_TIMEOUT_SECONDS) -> bool:
        """Start one stopped broker and wait until it serves clients; True if it was stopped."""
        return bool(self.start_nodes(broker, timeout=timeout))

    def start_nodes(self, *brokers: int, timeout: float = NODE_START_TIMEOUT_SECONDS) -> list[int]:
        """Start the stopped ones among `brokers` all at once, then wait until each serves
        clients; returns those it started."""
        for broker in brokers:
            self._broker_index(broker)
        starting = [broker for broker in dict.fromkeys(brokers) if self._pid(broker) is None]
        if not starting:
            return []
        if self._pid(CONTROLLER_ID) is None:
            raise BrokerError(
                "The cluster's controller is not running, so no broker can join; "
                "start the whole cluster again."
            )
        record = self.record
        for broker in starting:
            _launch(self.layout, broker, record)
        _wait_for_brokers(self.layout, starting, 1, timeout)
        return starting

    @contextlib.contextmanager
    def stopped(self, *brokers: int, crash: bool = False) -> Iterator[Cluster]:
        """Stop `brokers` for the duration of the block; on leaving, even by an exception,
        start again those this block stopped."""
        halted: list[int] = []
        try:
            for broker in brokers:
                if self.stop_node(broker, crash=crash):
                    halted.append(broker)
            yield self
        finally:
            self.start_nodes(*halted)

    def shutdown(self, remove: bool | None = None) -> None:
        """Stop every broker, then the controller. `remove` deletes the cluster's folder too
        (by default, only for a throw-away cluster made by start_cluster() without a folder)."""
        from autograder.grading import (
            kafka_io,  # the grader's cached clients would keep retrying a dead cluster
        )

        kafka_io.close_for(self.bootstrap)
        stop_cluster(self.layout.root)
        if remove is None:
            remove = bool(self.record.get("scratch"))
        if remove:
            _started_here.pop(str(self.layout.root), None)
            shutil.rmtree(self.layout.root, ignore_errors=True)

    def log(self, node: int, lines: int = 50) -> str:
        """The last `lines` lines of one node's log (0 is the controller)."""
        return log_tail(self.layout.log_file(node), lines)

    def _pid(self, node: int) -> int | None:
        return _running_pid(self.layout, node)

    def _broker_index(self, broker: int) -> int:
        if broker not in self.brokers:
            raise BrokerError(
                f"There is no broker {broker} in this cluster; its brokers are "
                f"{', '.join(map(str, self.brokers)) or 'none'}."
            )
        return broker - 1


def start_cluster(
    state_dir: Path | str | None = None,
    brokers: int = DEFAULT_BROKERS,
    first_port: int | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> Cluster:
    """Start a controller and `brokers` brokers; return once every broker serves clients.

    Args:
        state_dir: the cluster's folder. None makes a throw-away one in the temp dir, whose
            processes die with this Python process and which shutdown() removes.
        brokers: how many brokers (1 to 9).
        first_port: broker n listens on first_port + n - 1; None picks free ports.
        timeout: seconds for the whole start.

    Raises BrokerError (a busy port, no Java, a node that died: with its log tail).
    """
    if not 1 <= brokers <= 9:
        raise BrokerError(f"A course cluster has 1 to 9 brokers, not {brokers}.")
    scratch = state_dir is None
    if state_dir is None:
        _remove_abandoned_clusters()
        state_dir = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    layout = ClusterLayout(Path(state_dir))
    if any(_running_pid(layout, node) for node in range(brokers + 1)):
        raise BrokerError(f"A cluster already runs from {layout.root}; stop it first.")
    java, jars = find_java(), kafka_jars()
    ports = _pick_ports(brokers, first_port)
    cluster_id = existing_cluster_id(layout) or kafka_uuid()
    record = {
        "nodes": brokers,
        "ports": ports,
        "controller_port": quiet_free_port(avoid=set(ports)),
        "cluster_id": cluster_id,
        "kafka_version": jars.version,
        "scratch": scratch,
        "owner_pid": os.getpid() if scratch else None,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    layout.write_record(record)
    for node in range(brokers + 1):
        ensure_node_formatted(layout, node, cluster_id, jars, java)
    if scratch:
        _started_here[str(layout.root)] = Cluster(layout.root)
    try:
        for node in range(brokers + 1):
            _launch(layout, node, record)
        _wait_for_brokers(layout, list(range(1, brokers + 1)), brokers, timeout)
    except BaseException:
        stop_cluster(layout.root)
        if scratch:
            _started_here.pop(str(layout.root), None)
            shutil.rmtree(layout.root, ignore_errors=True)
        raise
    return Cluster(layout.root)


def stop_cluster(state_dir: Path | str) -> list[int]:
    """Stop every node of the cluster in `state_dir`, brokers first; the pids that were running.

    The data stays (start_cluster on the same folder brings its topics back).
    """
    layout = ClusterLayout(Path(state_dir))
    brokers = layout.read_record().get("nodes", 0)
    stopped: list[int] = []
    pids = {n: _running_pid(layout, n) for n in range(1, brokers + 1)}
    running = {n: pid for n, pid in pids.items() if pid is not None}
    stopped += running.values()
    # Brokers stop in parallel: each controlled shutdown waits on the controller, not on CPU.
    threads = [
        threading.Thread(target=_stop_process, args=(layout, n, False, STOP_TIMEOUT_SECONDS))
        for n in running
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    controller = _running_pid(layout, CONTROLLER_ID)
    if controller is not None:
        stopped.append(controller)
        _stop_process(layout, CONTROLLER_ID, False, STOP_TIMEOUT_SECONDS)
    return stopped


# --- processes -----------------------------------------------------------------------------

# Throw-away clusters started by this process, stopped and removed when it exits normally.
_started_here: dict[str, Cluster] = {}


@atexit.register
def _shutdown_started_here() -> None:
    for cluster in list(_started_here.values()):
        cluster.shutdown(remove=True)


def _launch(layout: ClusterLayout, node: int, record: dict) -> int:
    """Start node `node`'s JVM (without waiting); returns its pid."""
    java, jars = find_java(), kafka_jars()
    properties = render_node_properties(layout, node, record)
    options = list(CONTROLLER_OPTIONS if node == CONTROLLER_ID else BROKER_OPTIONS)
    archive = archive_path(java, jars)
    if archive.is_file():  # reuse the single broker's class archive: about twice as fast
        options += ["-Xlog:cds*=off", f"-XX:SharedArchiveFile={archive}"]
    log_file = layout.log_file(node)
    with open(log_file, "a") as log:
        log.write(
            f"\n===== kafka-course: starting node {node}, "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} =====\n"
        )
    command = broker_command(java, jars, properties, options)
    pid = _spawner.spawn(command, log_file, tied=bool(record.get("scratch")))
    layout.pid_file(node).write_text(f"{pid}\n")
    return pid


def _running_pid(layout: ClusterLayout, node: int) -> int | None:
    """The node's pid if its JVM runs (a pid reused by another process does not count)."""
    try:
        pid = int(layout.pid_file(node).read_text().strip())
    except (OSError, ValueError):
        return None
    if not processes.is_alive(pid):
        return None
    if pid in processes._children:  # our own child: its cmdline reads empty until exec is done
        return pid
    if str(layout.properties(node).resolve()) not in processes.command_line(pid):
        return None
    return pid


def _stop_process(layout: ClusterLayout, node: int, crash: bool, timeout: float) -> bool:
    pid = _running_pid(layout, node)
    if pid is None:
        layout.pid_file(node).unlink(missing_ok=True)
        return False
    if crash:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        processes.stop(pid, timeout)  # reaps it; the SIGTERM it sends finds nobody
    else:
        processes.stop(pid, timeout)
    layout.pid_file(node).unlink(missing_ok=True)
    return True


def _wait_for_brokers(
    layout: ClusterLayout, brokers: list[int], expected: int, timeout: float
) -> None:
    """Wait until each of `brokers` answers and sees `expected` live brokers; else BrokerError
    with the log tail of the node that failed."""
    deadline = time.monotonic() + timeout
    record = layout.read_record()
    nodes = [CONTROLLER_ID, *brokers]
    for broker in brokers:
        address = f"localhost:{record['ports'][broker - 1]}"

        def alive() -> bool:
            return all(_running_pid(layout, node) is not None for node in nodes)

        try:
            wait_until_ready(address, max(0.1, deadline - time.monotonic()), still_starting=alive)
            while (info := probe(address, timeout=1.0)) is None or info.broker_count < expected:
                if time.monotonic() > deadline or not alive():
                    raise BrokerError(
                        f"Broker {broker} answered but does not see {expected} brokers yet."
                    )
                time.sleep(0.05)
        except BrokerError as error:
            dead = [node for node in nodes if _running_pid(layout, node) is None]
            culprit = dead[0] if dead else broker
            tail = log_tail(layout.log_file(culprit), LOG_TAIL_LINES)
            what = "controller" if culprit == CONTROLLER_ID else f"broker {culprit}"
            state = "exited" if dead else f"did not serve within {timeout:g} s"
            raise BrokerError(
                f"The cluster's {what} {state} ({error}); the last "
                f"{LOG_TAIL_LINES} lines of {layout.log_file(culprit)} follow.",
                log_tail=tail,
            ) from None


def _pick_ports(brokers: int, first_port: int | None) -> list[int]:
    if first_port is None:
        ports: list[int] = []
        while len(ports) < brokers:
            ports.append(quiet_free_port(avoid=set(ports)))
        return ports
    ports = [first_port + n for n in range(brokers)]
    for port in ports:
        if not port_is_free(port):
            raise port_in_use_error(port)
    return ports


def quiet_free_port(avoid: set[int] | None = None) -> int:
    """A free port below the kernel's ephemeral range.

    A port the kernel hands out for binding (port 0) comes from the range it also uses for
    outgoing connections; between choosing it and the broker binding it, one of the cluster's
    own connections (a broker dialling the controller) can take it. Ports below that range are
    never taken that way.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randint(20000, max(20001, low - 1))
        if port not in (avoid or set()) and port_is_free(port):
            return port
    return free_port(avoid)  # a crowded machine: fall back to the kernel's choice


def _remove_abandoned_clusters() -> None:
    """Throw-away clusters whose owner died without cleaning up (a killed kernel): stop what
    still runs of them and remove their folders."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        owner = ClusterLayout(folder).read_record().get("owner_pid")
        if owner and (owner == os.getpid() or processes.is_alive(owner)):
            continue
        stop_cluster(folder)
        shutil.rmtree(folder, ignore_errors=True)


class _Spawner:
    """Starts node JVMs from one long-lived thread.

    A throw-away cluster's JVMs ask Linux to SIGKILL them when their parent goes
    (PR_SET_PDEATHSIG), so a killed notebook kernel leaves no broker behind. Linux counts the
    *thread* that forked as the parent, so the forking is done by a thread that lives as long
    as the process, never by a short-lived worker thread whose end would kill the broker.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def spawn(self, command: list[str], log_file: Path, tied: bool) -> int:
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="kafka-node-spawner", daemon=True
                )
                self._thread.start()
        answer: queue.Queue = queue.Queue(maxsize=1)
        self._jobs.put((command, log_file, tied, answer))
        outcome = answer.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _serve(self) -> None:
        while True:
            command, log_file, tied, answer = self._jobs.get()
            try:
                answer.put(_spawn(command, log_file, tied))
            except BaseException as error:  # handed to the caller, raised there
                answer.put(error)


_spawner = _Spawner()


def _spawn(command: list[str], log_file: Path, tied: bool) -> int:
    parent = os.getpid()
    preexec = None
    if tied and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls into it

        def die_with_parent() -> None:  # runs in the child between fork and exec
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

        preexec = die_with_parent
    with open(log_file, "ab") as log, open(os.devnull, "rb") as nothing:
        child = subprocess.Popen(
            command,
            stdin=nothing,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            preexec_fn=preexec,
        )
    processes._children[child.pid] = child  # so processes.is_alive/stop poll and reap it
    return child.pid
