"""Run the CLI with ``python -m exomirkg``."""

from exomirkg.cli import main

main()
