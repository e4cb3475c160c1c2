"""Exercises whose learner's producer talks to the broker through the fault proxy.

``prepare`` starts a timed proxy with the exercise's faults switched on and gives the learner's
function the proxy's address as ``bootstrap``. ``run_learner`` stops the proxy the moment the
function ends and keeps the proxy's own report (requests seen by API, faults fired) as the
attempt's evidence; the claim carries it to the broker, so a later rejudge judges the same
evidence. ``judge`` stops the proxy too, and a watchdog does when nobody calls either.

A producer that ignores ``bootstrap`` (the course's broker address typed by habit) never meets
the fault, and a verdict on what it stored would praise something that did not happen; so
``unmet_condition`` fails every attempt whose producer the faults never struck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from autograder.faults import FaultProxy, start_timed, stop_timed
from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

NO_ANSWER = "sent without waiting for an answer"  # the proxy's count of acks=0 requests


def proxy_key(topic: str) -> str:
    """The timed proxy's key: the attempt's topic, unique to the attempt."""
    return f"topic:{topic}"


class BehindFaultProxy(Exercise):
    """Subclasses implement ``arm`` (the faults to switch on) and describe them in ``fault``;
    their ``prepare`` calls ``start_proxy`` and passes its address on as ``bootstrap``, with
    the attempt's topic as ``topic``."""

    fault = "the injected fault"

    def arm(self, proxy: FaultProxy) -> list:
        raise NotImplementedError

    def start_proxy(self, attempt: Attempt) -> str:
        """Start this attempt's proxy with its faults on; the address to bootstrap from."""
        proxy = start_timed(
            proxy_key(attempt.topic()), attempt.bootstrap, self.arm, self.time_limit_s + 5
        )
        return proxy.bootstrap

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The learner's function, then the proxy stopped at once however the function ended,
        and its report kept as the attempt's evidence."""
        try:
            outcome = super().run_learner(function, kwargs)
        finally:
            proxy = stop_timed(proxy_key(kwargs["topic"]))
        report = proxy.report() if proxy is not None else {}
        return replace(outcome, evidence={**outcome.evidence, "proxy": report})

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        stop_timed(proxy_key(attempt.topic()))  # for a caller that never ran run_learner
        return super().judge(attempt, outcome)

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        report = outcome.evidence.get("proxy") or {}
        through_proxy = (report.get("requests") or {}).get("Produce", 0)
        if not through_proxy:
            stored = sum(kafka_io.end_offsets(attempt.bootstrap, attempt.topic()).values())
            if not stored:
                return None  # nothing sent anywhere: the verdict says what is missing
            return self.failure(
                "your producer never went through the fault the check set up",
                "every Produce request through the fault proxy at the `bootstrap` you were given",
                f"no Produce request reached the proxy, yet the topic holds {stored} record(s)",
                "Which address did your producer connect to? It never went through the "
                "address the check gave you: use the `bootstrap` argument.",
            )
        if not sum((report.get("faults fired") or {}).values()):
            unanswered = (report.get("Produce") or {}).get(NO_ANSWER, 0)
            if unanswered:
                return self.failure(
                    "the injected fault never met your producer",
                    f"your producer meeting {self.fault}",
                    f"{unanswered} Produce request(s) sent without waiting for an answer (acks=0)",
                    "Did your producer wait for the broker's answers? With acks=0 nothing "
                    "comes back, so nothing can be lost or refused and nothing is known: "
                    "set acks='all' with enable_idempotence=True.",
                )
            return self.failure(
                "the injected fault never met your producer",
                f"your producer meeting {self.fault}",
                f"{through_proxy} Produce request(s) through the proxy, none of them struck",
                "Did your producer send every record through the `bootstrap` you were "
                "given, before your function returned? Send them there and flush before "
                "returning.",
            )
        return None
