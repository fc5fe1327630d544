"""``python -m modelatlas.cli``: the same as the ``modelatlas`` script."""

from modelatlas.cli import main

main()
