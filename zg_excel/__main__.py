"""``python -m zg_excel`` = the ``zg-excel`` command (for launchers where the script is not on PATH)."""

from .cli import main

main()
