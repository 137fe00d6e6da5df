"""`python -m bot` runs the learnbot command line."""

import sys

from bot.cli import main

sys.exit(main())
