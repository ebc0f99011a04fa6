"""Ingestion: models, logged rows and profiles per window, labels, KPIs and tokens, on the store.
What the server's routers and the client's local mode both call."""
