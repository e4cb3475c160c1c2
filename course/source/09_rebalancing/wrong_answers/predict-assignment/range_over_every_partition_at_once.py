"""range laid over all the topics' partitions at once, not topic by topic"""


def predict_assignment(assignor, members, partitions):
    names = sorted(members)
    result = {name: {} for name in names}
    every = [(topic, p) for topic, count in sorted(partitions.items()) for p in range(count)]
    if assignor == "range":
        share, extra = divmod(len(every), len(names))
        start = 0
        for index, name in enumerate(names):
            length = share + (1 if index < extra else 0)
            for topic, partition in every[start : start + length]:
                result[name].setdefault(topic, []).append(partition)
            start += length
    else:
        turn = 0
        for topic, partition in every:
            while topic not in members[names[turn % len(names)]]:
                turn += 1
            result[names[turn % len(names)]].setdefault(topic, []).append(partition)
            turn += 1
    return result
