"""`python -m vigil.server`: the same as `vigil server`."""

from vigil.cli.server import server_command

server_command(prog_name="python -m vigil.server")
