"""the refusal caught, and the transaction committed anyway: it only holds the debit"""

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
                producer.send(
                    credits, key=transfer["to"].encode(), value=json.dumps(credit).encode()
                )
            except CreditRefused:
                pass  # no credit was sent, so nothing to undo
            producer.commit_transaction()
    finally:
        producer.close()
