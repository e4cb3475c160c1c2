"""Where the course keeps its files: the repository, the broker's state and the download cache."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # autograder/
REPO_ROOT = PACKAGE_DIR.parent
COURSE_DIR = REPO_ROOT / "course"
SOURCE_DIR = COURSE_DIR / "source"
MANIFEST_FILE = COURSE_DIR / "manifest.yml"
RELEASE_DIR = REPO_ROOT / "notebooks"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
LEARNER_LAB_CONFIG = REPO_ROOT / "lab" / "learner"  # Jupyter config of the learner's lab


def state_dir() -> Path:
    """The broker's data and logs; `kafka-course broker reset` wipes it."""
    return Path(os.environ.get("KAFKA_COURSE_STATE_DIR", REPO_ROOT / ".state"))


def cache_dir() -> Path:
    """Downloaded Kafka jars; survives `reset` so a second `up` downloads nothing."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kafka-course"
    return Path(os.environ.get("KAFKA_COURSE_CACHE", default))
