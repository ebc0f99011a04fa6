"""The one notification pipeline.

- `outbox`: every registry, monitor and alert change appends one event in its own transaction, and
  one delivery per subscriber of it.
- subscribers: webhook subscriptions (`subscriptions`, signed POSTs of the event) and alert
  channels (`channels`: the channels a monitor names receive its alerts' notifications,
  `findings.notification`), sent to by `subscribers`.
- `delivery`: the one worker that sends the due deliveries, with one retry policy; `dispatch`
  runs it in the server.

A CI/CD system either pages `GET /api/v1/events?after=CURSOR` or subscribes a webhook.
`vigil.events` depends on the store only, so the registry and the monitors write events without
importing anything above them.
"""
