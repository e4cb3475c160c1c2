"""members taken in the order given, as if the assignor kept the order they joined in"""


def predict_assignment(assignor, members, partitions):
    names = list(members)  # not sorted
    result = {name: {} for name in names}
    if assignor == "range":
        for topic, count in sorted(partitions.items()):
            readers = [name for name in names if topic in members[name]]
            share, extra = divmod(count, len(readers))
            start = 0
            for index, name in enumerate(readers):
                length = share + (1 if index < extra else 0)
                if length:
                    result[name][topic] = list(range(start, start + length))
                start += length
    else:
        turn = 0
        for topic, count in sorted(partitions.items()):
            for partition in range(count):
                while topic not in members[names[turn % len(names)]]:
                    turn += 1
                result[names[turn % len(names)]].setdefault(topic, []).append(partition)
                turn += 1
    return result
