"""The project's benchmarks (SPEC §5), run as `asamblea bench broadcast` and `asamblea bench crash`.

Each runs the real bot (`asamblea run`, a process of its own) against the Bot API sandbox
(another process, with Telegram's rate limits on), measures through the sandbox's control API,
prints progress to stderr and one JSON object as the last line of stdout.
"""
