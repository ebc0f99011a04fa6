"""Events for other systems: an outbox written in the same transaction as each registry or
monitoring change (`outbox`), webhook subscriptions (`subscriptions`) and their signed, retried
delivery (`dispatch`). A CI/CD system either pages `GET /api/v1/events?after=CURSOR` or
subscribes a webhook.

`vigil.events.outbox` depends on the store only, so the registry and the monitors can write
events without importing anything above them.
"""
