"""``python -m bot`` is the ``techbrief`` command."""

import sys

from bot.cli import main

sys.exit(main())
