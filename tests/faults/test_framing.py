"""Reading Kafka's wire protocol frames off a byte stream (faults/framing.py)."""

from __future__ import annotations

from autograder.faults.framing import split_frames


def test_frames_are_split_only_when_complete():
    buffer = bytearray(b"\x00\x00\x00\x02ab\x00\x00\x00\x03c")
    assert split_frames(buffer) == [b"\x00\x00\x00\x02ab"]
    buffer += b"de"
    assert split_frames(buffer) == [b"\x00\x00\x00\x03cde"] and buffer == b""
