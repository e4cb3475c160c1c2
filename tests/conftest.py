"""Shared fixtures. One real broker for the whole test session: testcontainers when Docker
answers, otherwise the course's own JVM launcher on a free port (so a learner's broker on 9092
is never touched).

Every test that uses the broker or a cluster, directly or through another fixture, is marked
`broker` here, so `pytest -m "not broker"` runs the rest with no Kafka and no JVM started
(`-m "not broker and not slow"` also leaves out the minute-long nbgrader release runs). Tests
that start a broker or a JVM themselves carry the mark explicitly.

A test module about one lesson sets LESSON = "NN": its `namespace` is then that lesson's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import broker
from autograder.broker.cluster import start_cluster
from autograder.broker.fixture import test_broker as _broker_for_tests
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.quiet import silence_kafka_logs
from autograder.notebook import progress
from tests.verdicts import Verdicts

# A test that needs any of these (even through other fixtures) needs Kafka running.
BROKER_FIXTURES = frozenset({"bootstrap", "cluster"})


def pytest_collection_modifyitems(items):
    for item in items:
        # fixturenames is the whole closure: `topic` brings `bootstrap` along, and so on.
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.broker)


def _bytes_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


@pytest.fixture(scope="session", autouse=True)
def learners_progress_untouched():
    """The learner's own progress file (as this shell's learner has it) is the same after the
    whole session as before: only a learner's check cells may write it, never a test."""
    learners_file = progress.progress_file()
    before = _bytes_or_none(learners_file)
    yield
    after = _bytes_or_none(learners_file)
    assert after == before, f"the test session wrote the learner's progress in {learners_file}"


@pytest.fixture(scope="session")
def bootstrap():
    with _broker_for_tests() as address:
        yield address
        kafka_io.close_all()  # before the broker goes: no client left retrying a dead socket
    # Producers that wrong answers leave open retry at exit; keep their noise out of the report.
    silence_kafka_logs()


def _lesson_of(request) -> str:
    """The lesson a test module is about: its LESSON constant, else lesson 01."""
    return str(getattr(request.module, "LESSON", "01"))


@pytest.fixture
def namespace(request):
    """A fresh run namespace of the test's lesson, as that lesson's setup cell would make."""
    return Namespace(new_run_id(), _lesson_of(request))


@pytest.fixture(scope="module")
def module_namespace(request):
    """One run namespace shared by a module's tests, for module-scoped scenarios."""
    return Namespace(new_run_id(), _lesson_of(request))


@pytest.fixture(scope="session")
def verdicts(bootstrap):
    """run_check on the course's learner code, each piece once per session (tests/verdicts.py)."""
    return Verdicts(bootstrap)


@pytest.fixture
def topic(bootstrap, namespace, request):
    """make(name, partitions, configs): a fresh topic in the test's namespace. A test module may
    set DEFAULT_PARTITIONS for its own default (1 otherwise)."""
    default_partitions = getattr(request.module, "DEFAULT_PARTITIONS", 1)

    def make(name, partitions=None, configs=None):
        full = namespace.topic(name)
        kafka_io.create_topic(bootstrap, full, partitions or default_partitions, configs)
        return full

    return make


@pytest.fixture
def broker_state(tmp_path, monkeypatch) -> Path:
    """A fresh state dir for the JVM launcher, whatever the machine or the environment says."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.setenv("KAFKA_COURSE_BROKER", "jvm")
    state_dir = tmp_path / "state"
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(state_dir))
    yield state_dir
    broker.down(state_dir)  # never leave a broker behind, whatever the test did


@pytest.fixture(scope="module")
def cluster():
    """A throwaway three-broker cluster (one controller) for one test module, shut down after."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.shutdown()
