"""`python -m bot` is `asamblea`."""

from bot.cli import main

raise SystemExit(main())
