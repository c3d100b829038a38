"""Run the skanime command line: ``python -m skanime``."""

import sys

from .cli import main

sys.exit(main())
