"""`python -m kpibot …`: the same as the `kpibot` command (for images without the console script)."""

from kpibot.cli import main

main()
