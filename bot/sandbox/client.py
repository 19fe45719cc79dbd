"""An async client for the sandbox's control API, for tests, benchmarks and the demo.

Typical test::

    async with SandboxClient(server.base_url) as sandbox:
        alice = await sandbox.create_user("Alice")
        group = await sandbox.create_group("Strike committee", alice)
        await sandbox.send(group["id"], alice, "/register")
        replies = await sandbox.wait_for(group["id"])   # what the bot said since then
        await sandbox.press_button(group["id"], alice, replies[-1], "Join")
        await sandbox.wait_idle()

Every control answer carries the sandbox's current ``seq``; the client keeps the
latest in :attr:`last_seq`, so ``wait_for(chat)`` without ``since`` means "after
the last thing I did".
"""

from __future__ import annotations

import time
from typing import Any

import httpx

UserRef = int | dict[str, Any]


class SandboxError(RuntimeError):
    """The control API refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class SandboxTimeout(SandboxError, TimeoutError):
    """A wait ran out before the bot did what was expected."""


def _id(ref: UserRef) -> int:
    """Accept a user or chat dict as returned by the sandbox, or a bare id."""
    return int(ref["id"]) if isinstance(ref, dict) else int(ref)


class SandboxClient:
    """Typed access to ``{base_url}/sandbox/...``."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=f"{self.base_url}/sandbox", timeout=timeout)
        self.last_seq = 0

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        long_poll_s: float | None = None,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        # A long poll may legitimately take long_poll_s; give HTTP some room beyond it.
        extra = {"timeout": long_poll_s + 10.0} if long_poll_s is not None else {}
        response = await self._http.request(method, path, json=json, params=query, **extra)
        seq = response.headers.get("X-Sandbox-Seq")
        if seq is not None:
            self.last_seq = int(seq)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            error = SandboxTimeout if response.status_code == 408 else SandboxError
            raise error(response.status_code, message)
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self._request(method, path, **kwargs)).json()

    # --- people and chats -----------------------------------------------------------------

    async def create_user(
        self,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """A new person (with the id ``user_id`` if given); returns Telegram's User object."""
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "id": user_id,
        }
        return await self._json("POST", "/users", json=body)

    async def user(self, user: UserRef) -> dict[str, Any]:
        """A user plus ``started`` and ``blocked``."""
        return await self._json("GET", f"/users/{_id(user)}")

    async def create_group(
        self,
        title: str,
        creator: UserRef,
        *,
        supergroup: bool = False,
        with_bot: bool = True,
        bot_admin: bool = False,
        username: str | None = None,
        announce: bool = True,
    ) -> dict[str, Any]:
        """A group (or supergroup) created by ``creator``, with the bot in it by default.

        ``announce=False`` skips the my_chat_member update and service message, as if
        the bot had been in the group since long before the test.
        """
        return await self._create_chat(
            "supergroup" if supergroup else "group",
            title, creator, with_bot, bot_admin, username, announce,
        )  # fmt: skip

    async def create_channel(
        self,
        title: str,
        creator: UserRef,
        *,
        with_bot: bool = True,
        username: str | None = None,
        announce: bool = True,
    ) -> dict[str, Any]:
        """A channel; the bot, if added, is an administrator (bots can only be that there)."""
        return await self._create_chat("channel", title, creator, with_bot, True, username, announce)

    async def _create_chat(
        self,
        chat_type: str,
        title: str,
        creator: UserRef,
        with_bot: bool,
        bot_admin: bool,
        username: str | None,
        announce: bool,
    ) -> dict[str, Any]:
        body = {
            "type": chat_type,
            "title": title,
            "creator_id": _id(creator),
            "bot_member": with_bot,
            "bot_admin": bot_admin,
            "username": username,
            "announce": announce,
        }
        return await self._json("POST", "/chats", json=body)

    async def chat(self, chat_id: int) -> dict[str, Any]:
        """A chat with its members, the bot's status and migration links."""
        return await self._json("GET", f"/chats/{chat_id}")

    async def set_member(self, chat_id: int, user_id: UserRef, status: str) -> dict[str, Any]:
        """Join, leave, kick, promote or demote someone (member/administrator/creator/left/kicked)."""
        body = {"user_id": _id(user_id), "status": status}
        return await self._json("POST", f"/chats/{chat_id}/members", json=body)

    async def _bot(self, chat_id: int, action: str, by: UserRef | None) -> dict[str, Any]:
        body = {"action": action, "by_user_id": _id(by) if by is not None else None}
        return await self._json("POST", f"/chats/{chat_id}/bot", json=body)

    async def add_bot(self, chat_id: int, by: UserRef) -> dict[str, Any]:
        """``by`` adds the bot to the chat."""
        return await self._bot(chat_id, "add", by)

    async def remove_bot(self, chat_id: int, by: UserRef) -> dict[str, Any]:
        """``by`` removes the bot: its sends there now fail with 403 "kicked"."""
        return await self._bot(chat_id, "remove", by)

    async def promote_bot(self, chat_id: int, by: UserRef) -> dict[str, Any]:
        """``by`` makes the bot an administrator."""
        return await self._bot(chat_id, "promote", by)

    async def demote_bot(self, chat_id: int, by: UserRef) -> dict[str, Any]:
        """``by`` takes the bot's administrator rights away."""
        return await self._bot(chat_id, "demote", by)

    async def migrate(self, chat_id: int) -> int:
        """Upgrade a group to a supergroup; returns the new chat id."""
        return int((await self._json("POST", f"/chats/{chat_id}/migrate"))["new_chat_id"])

    async def block(self, user: UserRef) -> dict[str, Any]:
        """The user blocks the bot."""
        return await self._json("POST", f"/users/{_id(user)}/block")

    async def unblock(self, user: UserRef) -> dict[str, Any]:
        """The user unblocks the bot."""
        return await self._json("POST", f"/users/{_id(user)}/unblock")

    # --- people acting ----------------------------------------------------------------------

    async def send(
        self,
        chat_id: int | dict[str, Any],
        user_id: UserRef | None,
        text: str,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """``user_id`` writes ``text`` in the chat (None: a channel post); returns the Message.

        For a private chat pass the user's id as ``chat_id``. Users and chats may be
        given as the dicts the sandbox returned or as bare ids.
        """
        body = {
            "chat_id": _id(chat_id),
            "from_user_id": _id(user_id) if user_id is not None else None,
            "text": text,
            "reply_to_message_id": reply_to,
        }
        return await self._json("POST", "/messages", json=body)

    async def post(self, channel_id: int, text: str) -> dict[str, Any]:
        """A channel post (``channel_post`` update, no ``from``)."""
        return await self.send(channel_id, None, text)

    async def press(self, chat_id: int, user_id: UserRef, message_id: int, data: str | None) -> str:
        """``user_id`` taps a button carrying ``data``; returns the callback query id."""
        body = {
            "chat_id": chat_id,
            "message_id": message_id,
            "from_user_id": _id(user_id),
            "data": data,
        }
        return str((await self._json("POST", "/callbacks", json=body))["callback_query_id"])

    async def press_button(self, chat_id: int, user_id: UserRef, message: dict[str, Any], text_or_data: str) -> str:
        """Tap the inline button whose text or callback_data is ``text_or_data``.

        ``message`` is a sent message as listed by :meth:`messages`/:meth:`wait_for`, or a
        Telegram Message dict; it needs ``message_id`` and ``reply_markup``.
        """
        markup = message.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if text_or_data in (button.get("text"), button.get("callback_data")):
                    if "callback_data" not in button:
                        raise ValueError(f"button {button.get('text')!r} has no callback_data")
                    message_id = int(message["message_id"])
                    return await self.press(chat_id, user_id, message_id, button["callback_data"])
        labels = [b.get("text") for row in markup.get("inline_keyboard", []) for b in row]
        raise LookupError(f"no button {text_or_data!r} in message; buttons: {labels}")

    async def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The bot's answerCallbackQuery (text, show_alert), or None if not answered yet."""
        return await self._json("GET", f"/callbacks/{query_id}")

    async def inject(self, update: dict[str, Any], *, post: bool = False) -> dict[str, Any]:
        """Queue a raw update verbatim (update_id added if missing); returns it as queued.

        With ``post`` its message is also posted in its chat (given the chat's next message_id if
        it has none), as Telegram keeps what it delivers, so the bot can reply to it. A callback
        query in it can be answered like a press: :meth:`callback_answer` with its ``id``."""
        return await self._json("POST", "/updates", json={"update": update, "post": post})

    # --- looking ------------------------------------------------------------------------

    async def messages(self, chat_id: int, since: int = 0) -> list[dict[str, Any]]:
        """What the bot sent to the chat (changed after ``since``), in order."""
        return await self._json("GET", f"/chats/{chat_id}/messages", params={"since": since})

    async def history(self, chat_id: int) -> list[dict[str, Any]]:
        """Every live message in the chat, people's and the bot's, as Telegram Messages."""
        return await self._json("GET", f"/chats/{chat_id}/history")

    async def sent(self, since: int = 0) -> list[dict[str, Any]]:
        """What the bot sent anywhere (changed after ``since``)."""
        return await self._json("GET", "/sent", params={"since": since})

    async def calls(self, method: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """The Bot API call log, optionally for one method."""
        return await self._json("GET", "/calls", params={"method": method, "since": since})

    async def commands(self) -> list[dict[str, Any]]:
        """Registered command lists: ``[{scope, language_code, commands}]``."""
        return await self._json("GET", "/commands")

    async def photo(self, file_id: str) -> bytes:
        """The bytes of a photo the bot sent."""
        return (await self._request("GET", f"/photos/{file_id}")).content

    async def stats(self) -> dict[str, Any]:
        """Requests per method, 429s given, messages per chat, ..."""
        return await self._json("GET", "/stats")

    async def pending_updates(self) -> int:
        """How many updates the bot has not confirmed yet."""
        return int((await self._json("GET", "/pending_updates"))["pending_updates"])

    async def seq(self) -> int:
        """The current seq; also stored in :attr:`last_seq`."""
        return int((await self._json("GET", "/seq"))["seq"])

    # --- waiting, instead of sleeping ---------------------------------------------------

    # The timeout is the server-side long poll's, not a local cancel scope.
    async def wait_for(
        self,
        chat_id: int | None,
        since: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        count: int = 1,
    ) -> list[dict[str, Any]]:
        """Messages the bot sent, edited or deleted in the chat after ``since``.

        Returns as soon as there are ``count`` of them; ``since`` defaults to the seq
        at this client's last request. Raises :class:`SandboxTimeout` otherwise.
        """
        params = {
            "chat_id": chat_id,
            "since": self.last_seq if since is None else since,
            "timeout": timeout,
            "count": count,
        }
        return await self._json("GET", "/wait", params=params, long_poll_s=timeout)

    async def wait_for_text(
        self,
        chat_id: int,
        contains: str,
        since: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The first message (sent or edited after ``since``) whose text or caption has ``contains``."""
        cursor = self.last_seq if since is None else since
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxTimeout(408, f"no message containing {contains!r}")
            found = await self.wait_for(chat_id, cursor, remaining)
            for message in found:
                body = message.get("text") or message.get("caption") or ""
                if contains in body and not message["deleted"]:
                    return message
            cursor = max(message["seq"] for message in found)

    async def wait_idle(self, timeout: float = 10.0, quiet: float = 0.2) -> None:  # noqa: ASYNC109
        """Until every update is confirmed and the bot has been quiet for ``quiet`` seconds."""
        await self._json("GET", "/wait_idle", params={"timeout": timeout, "quiet": quiet}, long_poll_s=timeout)

    # --- failures and limits --------------------------------------------------------------

    async def add_fault(
        self,
        kind: str,
        method: str | None = None,
        chat_id: int | None = None,
        count: int = 1,
        retry_after: int = 1,
        delay_s: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Queue a fault: "429", "500", "502", "drop", "delay" or "timeout"."""
        rule = {
            "kind": kind,
            "method": method,
            "chat_id": chat_id,
            "count": count,
            "retry_after": retry_after,
            "delay_s": delay_s,
        }
        return await self._json("POST", "/faults", json=rule)

    async def clear_faults(self) -> None:
        """Drop every queued fault."""
        await self._json("DELETE", "/faults")

    async def faults(self) -> list[dict[str, Any]]:
        """The faults still queued."""
        return await self._json("GET", "/faults")

    async def set_limits(self, **changes: Any) -> dict[str, Any]:
        """Change limits, e.g. ``set_limits(enabled=False)`` or ``set_limits(per_chat_burst=10)``."""
        return await self._json("PUT", "/limits", json=changes)

    async def limits(self) -> dict[str, Any]:
        """The limits in force."""
        return await self._json("GET", "/limits")

    async def reset(self) -> None:
        """Empty the world (users, chats, logs, faults)."""
        await self._json("POST", "/reset")
        self.last_seq = 0
