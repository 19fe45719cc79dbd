"""One-time codes that link a chat as a council.

Only the operator, who holds the server, can make a code (`asamblea council-code`); whoever
posts it with `/council CODE` in a chat, as that chat's admin, makes the chat the council.
Codes carry 59 bits, expire, work once, and are stored only as an HMAC.
"""

from __future__ import annotations

from domain import codes
from domain.audit import Kind, Role
from storage import Store

ALPHABET = codes.ALPHABET
GROUPS, GROUP_LENGTH = 3, 4


def new_code() -> str:
    """A council link code, e.g. "ABCD-EFGH-JKMN"; the form it is stored (as an HMAC) in."""
    return codes.new_code(GROUPS, GROUP_LENGTH)


async def issue_code(store: Store, *, region: str, now: int, valid_hours: int) -> str:
    code = new_code()
    async with store.db.transaction() as tx:
        await store.councils.add_code(tx, code, region=region, now=now, expires_at=now + valid_hours * 3600)
        # The operator has no account the bot knows: the role says who, and no one is counted.
        await store.audit.record(tx, kind=Kind.COUNCIL_CODE, role=Role.OPERATOR, region=region, at=now)
    return code
