"""`vigil.Client`'s sub-clients, one module per area. Each area has a Protocol, a local side
(on the services, in this process) and a remote side (on `vigil.api`'s typed client), so that
each call is written once per side."""
