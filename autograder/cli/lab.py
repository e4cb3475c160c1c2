"""`kafka-course lab`: JupyterLab as a learner meets it, or (``--instructor``) as an instructor.

The learner's lab runs in notebooks/ with the project's own Jupyter config (lab/learner/, added
to ``JUPYTER_CONFIG_PATH``, so nothing in the user's home is changed): nbgrader's instructor
tools (the Create Assignment sidebar, the Nbgrader menu, formgrader) and JupyterLab's question
about Jupyter news are switched off. The instructor's lab runs in course/ with all of them.
`make lab` calls the learner's; the browser test starts it the same way.

    kafka-course lab [--port N] [--token T] [--no-browser] [--root DIR] [--instructor]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.grading.paths import COURSE_DIR, LEARNER_LAB_CONFIG, RELEASE_DIR

FIRST_LESSON = "01_producer_basics/01_producer_basics.ipynb"


def lab_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The `jupyter lab` command line and environment that `args` ask for."""
    root = Path(args.root) if args.root else (COURSE_DIR if args.instructor else RELEASE_DIR)
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", f"--ServerApp.root_dir={root}"]
    if args.port:
        command.append(f"--port={args.port}")
    if args.token is not None:
        command.append(f"--IdentityProvider.token={args.token}")
    if args.no_browser:
        command.append("--no-browser")
    if os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    env = dict(os.environ)
    if not args.instructor:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(LEARNER_LAB_CONFIG), env.get("JUPYTER_CONFIG_PATH")) if p
        )
        if (root / FIRST_LESSON).is_file():
            command.append(str(root / FIRST_LESSON))
    return command, env


def _lab(args: argparse.Namespace) -> int:
    command, env = lab_command(args)
    os.execve(command[0], command, env)  # become JupyterLab: Ctrl-C and signals reach it


def add_lab_command(subparsers: argparse._SubParsersAction) -> None:
    lab = subparsers.add_parser("lab", help="open JupyterLab on the course (a learner's lab)")
    lab.add_argument("--port", type=int, help="port to serve on (JupyterLab's default: 8888)")
    lab.add_argument("--token", help="the access token (JupyterLab makes one by default)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument("--root", help="folder to serve (default: notebooks/, or course/)")
    lab.add_argument(
        "--instructor",
        action="store_true",
        help="serve course/ with nbgrader's instructor tools (Create Assignment, formgrader)",
    )
    lab.set_defaults(handler=_lab)
