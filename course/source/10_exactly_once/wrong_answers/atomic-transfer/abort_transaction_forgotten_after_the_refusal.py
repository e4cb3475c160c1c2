"""the refused transfer skipped without abort_transaction(), its transaction left open"""

import json

from kafka import KafkaProducer


def transfer_funds(bootstrap, transactional_id, transfers, debits, credits, credit_for):
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    try:
        producer.init_transactions()
        for transfer in transfers:
            producer.begin_transaction()
            debit = {
                "transfer": transfer["id"],
                "account": transfer["from"],
                "amount": -transfer["amount"],
            }
            producer.send(debits, key=transfer["from"].encode(), value=json.dumps(debit).encode())
            try:
                credit = credit_for(transfer)
            except CreditRefused:
                continue  # not committed, so it never counts
            producer.send(credits, key=transfer["to"].encode(), value=json.dumps(credit).encode())
            producer.commit_transaction()
    finally:
        producer.close()
