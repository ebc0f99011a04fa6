"""One router per resource; each parses the request, calls `vigil.store.service`, maps the result."""
