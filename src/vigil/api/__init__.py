"""The /api/v1 contract: the typed values the server and the client exchange and the wire format of
logged batches. No SQL and no HTTP server here: the store, the server and the client build on it."""
