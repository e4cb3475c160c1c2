"""The one exception the broker package raises, worded for a learner."""

from __future__ import annotations

import textwrap


class BrokerError(Exception):
    """A broker problem the learner can fix.

    ``str(error)`` is one line that names the problem and the fix. When the broker process
    died, its last log lines (``error.log_tail``) follow that line, indented, because the
    cause is in them and nowhere else.

    Example:
        >>> str(BrokerError("Port 9092 is in use; stop the other process."))
        'Port 9092 is in use; stop the other process.'
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        # Collapse whatever whitespace the caller built the message with into one line.
        self.message = " ".join(message.split())
        self.log_tail = log_tail.rstrip()
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.log_tail:
            return self.message
        return self.message + "\n" + textwrap.indent(self.log_tail, "    | ")
