"""retention forgotten"""

from kafka import KafkaAdminClient
from kafka.admin import NewTopic


def create_orders_topic(bootstrap, name):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
