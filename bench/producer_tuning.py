"""Benchmark: lesson 03's producer configurations, kafka-python next to the Java client.

    .venv/bin/python bench/producer_tuning.py [--records 20000] [--quick]

For each configuration (linger.ms, batch.size, compression.type), both clients send the same
click events (lesson 03's JSON events) to their own fresh one-partition topic on the same broker:

- kafka-python: a fresh KafkaProducer, send every event, one flush; records/s is first send to
  the end of flush (metadata fetched before the clock starts).
- Java: `kafka-producer-perf-test` (org.apache.kafka.tools.ProducerPerformance from the broker's
  own kafka-tools jar) with --throughput -1 and a payload file of the same events (it picks lines
  at random); records/s is the tool's own figure, JVM start excluded, warm-up included.

Bytes stored are the partition sizes the broker reports (describe_log_dirs). The arms alternate
per configuration so drift on a shared machine hits both alike. Ratios are against the first
configuration (kafka-python's defaults), measured in the same run. A broker is started for the
benchmark unless KAFKA_BOOTSTRAP_SERVERS is set. Prints a table; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaProducer  # noqa: E402

from autograder.broker.config import LOG4J_CONFIG  # noqa: E402
from autograder.broker.fixture import test_broker  # noqa: E402
from autograder.broker.jars import kafka_jars  # noqa: E402
from autograder.broker.java_runtime import find_java  # noqa: E402
from autograder.grading import kafka_io  # noqa: E402
from autograder.grading.exercises.lesson03 import encode, make_events  # noqa: E402
from autograder.grading.namespace import Namespace, new_run_id  # noqa: E402
from autograder.grading.quiet import silence_kafka_logs  # noqa: E402

# label -> producer settings by Kafka name; the first is the baseline (all defaults).
CONFIGS: dict[str, dict[str, str]] = {
    "defaults": {},
    "linger 200, batch 4 KiB": {"linger.ms": "200", "batch.size": "4096"},
    "linger 200, batch 64 KiB": {"linger.ms": "200", "batch.size": "65536"},
    "linger 200, batch 256 KiB": {"linger.ms": "200", "batch.size": "262144"},
    "gzip, linger 200": {"compression.type": "gzip", "linger.ms": "200"},
    "snappy, linger 200": {"compression.type": "snappy", "linger.ms": "200"},
    "lz4, linger 200": {"compression.type": "lz4", "linger.ms": "200"},
    "zstd, linger 200": {"compression.type": "zstd", "linger.ms": "200"},
}
QUICK_CONFIGS = ("defaults", "zstd, linger 200")
PERF_RESULT = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")


def python_settings(settings: dict[str, str]) -> dict:
    """Kafka names to kafka-python keywords (linger.ms -> linger_ms), numbers as ints."""
    return {
        name.replace(".", "_"): int(value) if value.isdigit() else value
        for name, value in settings.items()
    }


def kafka_python_arm(
    bootstrap: str, topic: str, values: list[bytes], settings: dict[str, str]
) -> float:
    """Records per second for kafka-python sending ``values`` with ``settings``."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **python_settings(settings))
    try:
        producer.partitions_for(topic)
        started = time.perf_counter()
        for value in values:
            producer.send(topic, value=value)
        producer.flush(timeout=300)
        return len(values) / (time.perf_counter() - started)
    finally:
        producer.close(timeout=10)


def java_arm(
    bootstrap: str, topic: str, payload_file: Path, records: int, settings: dict[str, str]
) -> float:
    """Records per second reported by kafka-producer-perf-test with the same settings."""
    props = [f"bootstrap.servers={bootstrap}", *(f"{k}={v}" for k, v in settings.items())]
    command = [
        str(find_java().executable),
        "-Xmx256m",
        "-cp",
        kafka_jars().classpath(),
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--payload-file",
        str(payload_file),
        "--throughput",
        "-1",
        "--producer-props",
        *props,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    found = PERF_RESULT.findall(done.stdout)
    if done.returncode != 0 or not found:
        raise RuntimeError(
            f"kafka-producer-perf-test failed ({done.returncode}): "
            + (done.stdout + done.stderr)[-1500:]
        )
    sent, per_second = found[-1]
    if int(sent) != records:
        raise RuntimeError(f"kafka-producer-perf-test sent {sent} of {records} records")
    return float(per_second)


def measure(bootstrap: str, records: int, labels: tuple[str, ...]) -> dict[str, dict]:
    """Both arms for every configuration in ``labels``, alternating; figures per label."""
    namespace = Namespace(new_run_id(), "bench")
    values = [encode(event) for event in make_events("bench-producer-tuning", records)]
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-producer-") as scratch:
        payload_file = Path(scratch) / "events.txt"
        payload_file.write_bytes(b"\n".join(values))
        for n, label in enumerate(labels):
            settings = CONFIGS[label]
            python_topic = namespace.topic(f"tuning-{n}-python")
            java_topic = namespace.topic(f"tuning-{n}-java")
            for topic in (python_topic, java_topic):
                kafka_io.create_topic(bootstrap, topic, 1)
            python_rate = kafka_python_arm(bootstrap, python_topic, values, settings)
            java_rate = java_arm(bootstrap, java_topic, payload_file, records, settings)
            figures[label] = {
                "kafka_python_records_per_s": round(python_rate),
                "java_records_per_s": round(java_rate),
                "kafka_python_bytes_stored": sum(
                    kafka_io.log_dir_sizes(bootstrap, python_topic).values()
                ),
                "java_bytes_stored": sum(kafka_io.log_dir_sizes(bootstrap, java_topic).values()),
            }
    return figures


def report(figures: dict[str, dict], records: int) -> dict:
    """Print the table and return the JSON summary (ratios against the first configuration)."""
    base = figures[next(iter(figures))]
    print(
        f"Producer tuning, {records} JSON click events per run, one-partition topics "
        f"({os.cpu_count()} CPUs). records/s and bytes stored on the broker:"
    )
    print(
        f"{'configuration':<28}{'kafka-python':>13}{'java':>10}{'java/py':>9}"
        f"{'py bytes':>12}{'java bytes':>12}{'py vs base':>11}{'java vs base':>13}"
    )
    for label, f in figures.items():
        f["java_over_kafka_python"] = round(
            f["java_records_per_s"] / f["kafka_python_records_per_s"], 2
        )
        f["kafka_python_speed_vs_baseline"] = round(
            f["kafka_python_records_per_s"] / base["kafka_python_records_per_s"], 2
        )
        f["java_speed_vs_baseline"] = round(f["java_records_per_s"] / base["java_records_per_s"], 2)
        f["kafka_python_bytes_vs_baseline"] = round(
            f["kafka_python_bytes_stored"] / base["kafka_python_bytes_stored"], 3
        )
        f["java_bytes_vs_baseline"] = round(f["java_bytes_stored"] / base["java_bytes_stored"], 3)
        print(
            f"{label:<28}{f['kafka_python_records_per_s']:>13,}{f['java_records_per_s']:>10,}"
            f"{f['java_over_kafka_python']:>8.1f}x{f['kafka_python_bytes_stored']:>12,}"
            f"{f['java_bytes_stored']:>12,}{f['kafka_python_speed_vs_baseline']:>10.2f}x"
            f"{f['java_speed_vs_baseline']:>12.2f}x"
        )
    ratios = [f["java_over_kafka_python"] for f in figures.values()]
    summary = {
        "records": records,
        "baseline": next(iter(figures)),
        "java_over_kafka_python_median": round(statistics.median(ratios), 2),
        "configs": figures,
    }
    print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 records and two configurations: does it run, not how fast",
    )
    args = parser.parse_args(argv)
    records = 300 if args.quick else args.records
    labels = QUICK_CONFIGS if args.quick else tuple(CONFIGS)
    silence_kafka_logs()
    with test_broker() as bootstrap:
        figures = measure(bootstrap, records, labels)
        kafka_io.close_all()
    return report(figures, records)


if __name__ == "__main__":
    main()
