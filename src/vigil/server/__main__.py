"""`python -m vigil.server`: the same as `vigil server`."""

from vigil.server.cli_commands import server_command

server_command(prog_name="python -m vigil.server")
