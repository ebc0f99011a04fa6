"""The demo: a realistic synthetic model and its production traffic, run with `vigil demo`."""

from vigil.demo.run import run_demo

__all__ = ["run_demo"]
