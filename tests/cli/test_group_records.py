"""group_records finds a group's partition of __consumer_offsets as the coordinator does. Its
decoding is tested against the real broker in test_groups.py (`describe --members`)."""

from __future__ import annotations

from autograder.cli.group_records import java_string_hash, offsets_partition


def test_the_hash_is_javas_string_hashcode_over_utf16_code_units():
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("\N{GRINNING FACE}") == 31 * 0xD83D + 0xDE00  # a surrogate pair
    assert java_string_hash("zzzzzzzz") < 0  # wraps around as a Java int does


def test_the_partition_is_kafkas_abs_hash_modulo_the_partition_count():
    assert offsets_partition("hello", 5) == 99162322 % 5
    assert offsets_partition("zzzzzzzz", 50) == abs(java_string_hash("zzzzzzzz")) % 50
    # Kafka's Utils.abs maps Integer.MIN_VALUE (this string's hash) to 0, not to itself.
    assert java_string_hash("polygenelubricants") == -(2**31)
    assert offsets_partition("polygenelubricants", 7) == 0
