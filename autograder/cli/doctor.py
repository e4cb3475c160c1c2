"""`kafka-course doctor [--json]`: one line per check of this machine, each failure with its fix.

Exit 0 when every check is fine, 1 otherwise. The checks are in autograder/doctor/.
"""

from __future__ import annotations

import argparse


def _doctor(args: argparse.Namespace) -> int:
    from autograder.broker import bootstrap_servers
    from autograder.doctor import render_json, render_text, run_checks

    findings = run_checks(bootstrap_servers())
    print(render_json(findings) if args.json else render_text(findings))
    return 0 if all(f.ok for f in findings) else 1


def add_doctor_command(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check this machine for the course: Python, Java, broker, notebooks"
    )
    doctor.add_argument("--json", action="store_true", help="the findings as JSON")
    doctor.set_defaults(handler=_doctor)
