"""`kafka-course doctor`: is this machine ready for the course, and if not, what to do.

Public API:

    Finding                   one check's outcome: name, ok, detail, fix (and a note-only flag)
    run_checks(bootstrap)     every check, in the order a newcomer meets them
    render_text(findings)     one line per check, each failure with its fix
    render_json(findings)     {"ok": bool, "checks": [{"name", "ok", "detail", "fix"}]}

Builds on broker/, faults/, grading/ and authoring/ (for the release); never on cli/ or demos/.
"""

from autograder.doctor.checks import Finding, run_checks
from autograder.doctor.report import render_json, render_text

__all__ = ["Finding", "render_json", "render_text", "run_checks"]
