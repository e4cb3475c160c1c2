"""a plain producer, each transfer sent as two records, trusting that both get through"""

import json

from kafka import KafkaProducer


def transfer_funds(bootstrap, transactional_id, transfers, debits, credits, credit_for):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
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
                continue  # the credit is never sent, so the transfer "did not happen"
            producer.send(credits, key=transfer["to"].encode(), value=json.dumps(credit).encode())
        producer.flush()
    finally:
        producer.close()
