"""Every event-log topic and the payload field that keys it (producers and consumers name topics only here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    #: the payload field whose value keys an event (its partition in Kafka)
    key_field: str

    def __str__(self) -> str:
        return self.name


#: orders, published by the order system (the simulator in the demo): see events.OrderPlaced / OrderDelivered
ORDER_PLACED = Topic("etd.order_placed", "order_id")
ORDER_DELIVERED = Topic("etd.order_delivered", "order_id")
#: the help-centre chatbot, published by business_logic through its outbox
HELP_QUESTIONS = Topic("help.questions", "question_id")
HELP_FEEDBACK = Topic("help.feedback", "question_id")
#: every routed prediction, published by inference_engine off the request path
PREDICTIONS = Topic("inference.predictions", "request_id")

TOPICS: tuple[Topic, ...] = (ORDER_PLACED, ORDER_DELIVERED, HELP_QUESTIONS, HELP_FEEDBACK, PREDICTIONS)
