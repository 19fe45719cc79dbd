"""``python -m bot.sandbox``: run the Bot API sandbox in the foreground (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
