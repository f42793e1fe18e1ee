"""Entry point of ``python -m adaptive_methods.experiments`` (also under ``torchrun -m``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
