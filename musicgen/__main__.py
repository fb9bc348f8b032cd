"""`python -m musicgen ...`: see musicgen/cli.py."""

import sys

from musicgen.cli import main

sys.exit(main())
