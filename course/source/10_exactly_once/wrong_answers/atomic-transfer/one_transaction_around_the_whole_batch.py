"""one transaction around the whole batch, aborted when one transfer is refused"""

import json

from kafka import KafkaProducer


def transfer_funds(bootstrap, transactional_id, transfers, debits, credits, credit_for):
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for transfer in transfers:
            debit = {
                "transfer": transfer["id"],
                "account": transfer["from"],
                "amount": -transfer["amount"],
            }
            producer.send(debits, key=transfer["from"].encode(), value=json.dumps(debit).encode())
            try:
                credit = credit_for(transfer)
            except CreditRefused:
                producer.abort_transaction()  # the batch is all or nothing
                return
            producer.send(credits, key=transfer["to"].encode(), value=json.dumps(credit).encode())
        producer.commit_transaction()
    finally:
        producer.close()
