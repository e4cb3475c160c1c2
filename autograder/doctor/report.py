"""How the doctor's findings are shown: a line each for a person, JSON for a tool."""

from __future__ import annotations

import json

from autograder.doctor.checks import Finding

NAME_WIDTH = 13


def render_text(findings: list[Finding]) -> str:
    """One line per check; a failure carries its fix after a dash.

    Example:
        >>> render_text([Finding("java", False, "none found", "install a JDK 17+")])
        '✘ java          none found — fix: install a JDK 17+'
    """
    lines = []
    for finding in findings:
        mark = "✔" if finding.ok else "✘"
        line = f"{mark} {finding.name:<{NAME_WIDTH}} {finding.detail}"
        if finding.fix and not finding.ok:
            line += f" — fix: {finding.fix}"
        elif finding.fix:
            line += f" ({finding.fix})"
        lines.append(line)
    return "\n".join(lines)


def render_json(findings: list[Finding]) -> str:
    checks = [{"name": f.name, "ok": f.ok, "detail": f.detail, "fix": f.fix} for f in findings]
    return json.dumps({"ok": all(f.ok for f in findings), "checks": checks}, indent=1)
