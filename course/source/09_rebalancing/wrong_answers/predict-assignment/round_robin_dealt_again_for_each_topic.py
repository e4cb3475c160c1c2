"""round-robin dealt again from the first member for each topic"""


def predict_assignment(assignor, members, partitions):
    names = sorted(members)
    result = {name: {} for name in names}
    for topic, count in sorted(partitions.items()):
        readers = [name for name in names if topic in members[name]]
        if assignor == "range":
            share, extra = divmod(count, len(readers))
            start = 0
            for index, name in enumerate(readers):
                length = share + (1 if index < extra else 0)
                if length:
                    result[name][topic] = list(range(start, start + length))
                start += length
        else:
            for partition in range(count):  # the deal restarts with every topic
                result[readers[partition % len(readers)]].setdefault(topic, []).append(partition)
    return result
