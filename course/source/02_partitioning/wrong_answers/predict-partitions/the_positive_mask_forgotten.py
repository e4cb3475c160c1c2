"""the positive mask forgotten"""

from kafka.partitioner import murmur2


def predict_partitions(keys, num_partitions):
    return {key: murmur2(key.encode("utf-8")) % num_partitions for key in keys}
