"""Subcommands of kplab, one module each (see harness/cli.py)."""
