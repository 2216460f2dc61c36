"""Run the CLI with ``python -m napkin``."""

from .cli import main

main()
