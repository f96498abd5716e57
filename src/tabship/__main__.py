"""``python -m tabship``."""

from tabship.cli import main

main()
