"""Bot API errors with Telegram's own wording.

The sandbox is only useful if the bot under test sees the same status codes and
descriptions as it would from api.telegram.org: python-telegram-bot maps them to
exception types (400 → BadRequest, 403 → Forbidden, ``migrate_to_chat_id`` →
ChatMigrated, ``retry_after`` → RetryAfter), and bots often match on the text.
Every error the sandbox gives is raised as an :class:`ApiError` built by one of
the helpers here, so the texts live in one place.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """The response body Telegram would send."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    """403 with Telegram's ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {text}")


def unauthorized() -> ApiError:
    """Wrong bot token."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """Unknown method."""
    return ApiError(404, "Not Found")


def conflict(text: str) -> ApiError:
    """409, e.g. two getUpdates at once or getUpdates while a webhook is set."""
    return ApiError(409, f"Conflict: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 with the ``retry_after`` parameter python-telegram-bot turns into RetryAfter."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def internal_server_error() -> ApiError:
    """500, as Telegram gives it when something breaks on its side."""
    return ApiError(500, "Internal Server Error")


def chat_migrated(new_chat_id: int) -> ApiError:
    """A group that became a supergroup answers on its old id with this."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


CHAT_NOT_FOUND = "chat not found"
USER_NOT_FOUND = "user not found"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_CANT_BE_EDITED = "message can't be edited"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
MESSAGE_TO_REPLY_NOT_FOUND = "message to be replied not found"
MESSAGE_TO_PIN_NOT_FOUND = "message to pin not found"
MESSAGE_TO_REACT_NOT_FOUND = "MESSAGE_ID_INVALID"
NO_TEXT_TO_EDIT = "there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "there is no caption in the message to edit"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "BUTTON_URL_INVALID"
TEXT_BUTTONS_UNALLOWED = "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_ENOUGH_RIGHTS_TO_PIN = "not enough rights to manage pinned messages in the chat"
NEED_ADMIN_IN_CHANNEL = "need administrator rights in the channel chat"
NO_ADMINS_IN_PRIVATE = "there are no administrators in the private chat"
CANT_LEAVE_PRIVATE = "chat member status can't be changed in private chats"
NO_PHOTO = "there is no photo in the request"
WRONG_FILE_ID = "wrong file identifier/HTTP URL specified"
IMAGE_PROCESS_FAILED = "IMAGE_PROCESS_FAILED"
PHOTO_TOO_BIG = "file is too big"
WRONG_ACTION = "wrong parameter action in request"
UNSUPPORTED_PARSE_MODE = "unsupported parse_mode"
BOT_COMMAND_INVALID = "BOT_COMMAND_INVALID"
COMMAND_DESCRIPTION_INVALID = "BOT_COMMAND_DESCRIPTION_INVALID"
REACTION_INVALID = "REACTION_INVALID"
CHAT_ID_EMPTY = "chat_id is empty"
GET_UPDATES_CONFLICT = "terminated by other getUpdates request; make sure that only one bot instance is running"
GET_UPDATES_WHILE_WEBHOOK = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
BOT_BLOCKED = "bot was blocked by the user"
CANT_INITIATE = "bot can't initiate conversation with a user"


def kicked_from(chat_type: str) -> ApiError:
    """The bot was removed from a group, supergroup or channel by someone."""
    return forbidden(f"bot was kicked from the {chat_type} chat")


def not_a_member_of(chat_type: str) -> ApiError:
    """The bot left (or was never in) a group, supergroup or channel."""
    return forbidden(f"bot is not a member of the {chat_type} chat")
