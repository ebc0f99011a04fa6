"""Who is calling: API tokens (created, listed, rotated, revoked by admins) and the dashboard's
signed-in sessions, which stand on a token. The API routes and the dashboard call these."""
