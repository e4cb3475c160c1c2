"""The one Kafka version the course pins, for the JVM launcher, Maven and docker-compose alike."""

# Newest kafka_2.13 on Maven Central that is also published as an apache/kafka image tag.
KAFKA_VERSION = "4.3.1"
SCALA_VERSION = "2.13"
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"
