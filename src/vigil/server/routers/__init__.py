"""One router per resource; each parses the request, calls `vigil.ingestion.service`, maps the result."""
