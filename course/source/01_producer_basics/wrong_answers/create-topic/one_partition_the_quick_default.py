"""one partition, the quick default"""

from kafka import KafkaAdminClient
from kafka.admin import NewTopic


def create_orders_topic(bootstrap, name):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics(
            [
                NewTopic(
                    name,
                    num_partitions=1,
                    replication_factor=1,
                    topic_configs={"retention.ms": "86400000"},
                )
            ]
        )
    finally:
        admin.close()
