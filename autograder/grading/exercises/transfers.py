"""Lesson 10's money transfers, and the receiving bank that refuses one of them mid-way.

A transfer is two records: a debit of the sender's account on one topic and a credit of the
receiver's on another. ``CreditDesk`` is the ``credit_for`` callable the check hands the
learner: asked after the debit was sent, it answers with the credit record's value, except for
the one transfer whose receiving account is closed, where it raises ``CreditRefused``.

Before it refuses, the desk waits (a few seconds at most) until the refused transfer's debit is
in the debits topic's log. A producer sends in the background, so a debit sent a moment ago may
still sit in its buffer, and an abort of records never sent leaves no trace in the log; waiting
makes the refusal come when the half-done transfer is really on the broker, so the abort the
check wants to see has something to take back. What the desk saw is the attempt's evidence.
"""

from __future__ import annotations

import json
import random
import threading
import time

from autograder.grading import kafka_io

ACCOUNTS = ("acct-ada", "acct-bo", "acct-cy", "acct-di", "acct-ed")
TRANSFERS = 6
DEBIT_WAIT_S = 4.0


class CreditRefused(Exception):
    """The receiving account refused the credit: the transfer must not happen at all."""


def make_transfers(attempt_id: str) -> tuple[list[dict], str]:
    """(this attempt's transfers, the id of the one whose credit is refused), from the
    attempt id alone: never the first transfer nor the last, so code must go on after it."""
    rng = random.Random(f"atomic-transfer:{attempt_id}")
    transfers: list[dict] = []
    for n in range(TRANSFERS):
        sender, receiver = rng.sample(ACCOUNTS, 2)
        transfers.append(
            {
                "id": f"t-{attempt_id}-{n:02d}",
                "from": sender,
                "to": receiver,
                "amount": rng.randint(5, 500),
            }
        )
    refused = str(transfers[rng.randint(1, TRANSFERS - 2)]["id"])
    return transfers, refused


def debit_of(transfer: dict) -> dict:
    """The debit record's value the learner writes for ``transfer``."""
    return {"transfer": transfer["id"], "account": transfer["from"], "amount": -transfer["amount"]}


def credit_of(transfer: dict) -> dict:
    """The credit record's value ``credit_for`` answers for ``transfer``."""
    return {"transfer": transfer["id"], "account": transfer["to"], "amount": transfer["amount"]}


def _debit_in_log(bootstrap: str, topic: str, transfer_id: str) -> bool:
    for entry in kafka_io.read_log(bootstrap, topic, deadline_s=2.0):
        if entry.control is None and entry.value:
            try:
                if json.loads(entry.value).get("transfer") == transfer_id:
                    return True
            except (ValueError, AttributeError):
                continue
    return False


class CreditDesk:
    """``credit_for(transfer)``: the credit record's value, or CreditRefused for the refused
    transfer. Remembers every transfer it was asked about and what it saw at the refusal."""

    def __init__(self, bootstrap: str, debits_topic: str, refused: str) -> None:
        self._bootstrap = bootstrap
        self._debits_topic = debits_topic
        self._refused = refused
        self._lock = threading.Lock()
        self.asked: list[str] = []
        self.refusals = 0
        self.debit_in_log_at_refusal: bool | None = None

    def __call__(self, transfer: dict) -> dict:
        transfer_id = transfer["id"]
        with self._lock:
            self.asked.append(transfer_id)
        if transfer_id != self._refused:
            return credit_of(transfer)
        stop_at = time.monotonic() + DEBIT_WAIT_S
        seen = _debit_in_log(self._bootstrap, self._debits_topic, transfer_id)
        while not seen and time.monotonic() < stop_at:
            time.sleep(0.1)
            seen = _debit_in_log(self._bootstrap, self._debits_topic, transfer_id)
        with self._lock:
            self.refusals += 1
            if self.debit_in_log_at_refusal is None:
                self.debit_in_log_at_refusal = seen
        raise CreditRefused(f"account {transfer['to']} is closed: transfer {transfer_id} refused")

    def __repr__(self) -> str:
        return "<credit_for: the receiving bank's answer to a transfer>"

    def evidence(self) -> dict:
        """What the desk saw, JSON-safe, for the attempt's claim."""
        with self._lock:
            return {
                "asked": list(self.asked),
                "refusals": self.refusals,
                "debit_in_log_at_refusal": self.debit_in_log_at_refusal,
            }
