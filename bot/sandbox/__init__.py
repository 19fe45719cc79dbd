"""A local Telegram Bot API sandbox: the real wire format, Telegram's limits, scripted failures.

Tests, benchmarks and the offline demo run the real bot against it, without a
token and without the internet::

    from bot.sandbox import SandboxClient, SandboxServer

    async with SandboxServer() as server, SandboxClient(server.base_url) as sandbox:
        bot = telegram.Bot(server.token, base_url=server.bot_api_url)
        ...

Modules: ``world`` (state), ``botapi`` (Bot API methods), ``limits`` (429s),
``faults`` (failure injection), ``server`` (HTTP), ``control`` (control API),
``client`` (control-API client), ``cli`` (standalone process).
"""

from .client import SandboxClient, SandboxError, SandboxTimeout
from .faults import FaultRule
from .limits import Limits
from .server import DEFAULT_TOKEN, DEFAULT_USERNAME, SandboxServer

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "FaultRule",
    "Limits",
    "SandboxClient",
    "SandboxError",
    "SandboxServer",
    "SandboxTimeout",
]
