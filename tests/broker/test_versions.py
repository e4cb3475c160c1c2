"""One Kafka version everywhere (broker/versions.py): the Docker image pinned in the compose file
is the one the launcher names."""

from __future__ import annotations

import yaml

from autograder.broker.versions import KAFKA_IMAGE
from autograder.grading.paths import REPO_ROOT


def test_compose_file_pins_the_same_image():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["kafka"]["image"] == KAFKA_IMAGE
