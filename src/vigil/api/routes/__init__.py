"""The /api/v1 routes by area, as typed calls on an `ApiClient`: the only place outside the
server's routers that knows a route's path. `vigil.api.client.VigilApi` composes them."""
