"""Secrets come from the environment or from files the config names, never from the config itself.

A seized config file (or a repository) then reveals nothing: the token and the secret key
live in the process environment or in a credential file with its own permissions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config, Problem

TOKEN_ENV = "ASAMBLEA_BOT_TOKEN"
SECRET_KEY_ENV = "ASAMBLEA_SECRET_KEY"
OPERATOR_CHAT_ENV = "ASAMBLEA_OPERATOR_CHAT_ID"
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Credentials:
    """The secrets of a running bot. `repr` hides them so they never reach a log."""

    bot_token: str
    secret_key: bytes
    operator_chat_id: int | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


class CredentialError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _read(env: Mapping[str, str], env_name: str, file_name: str) -> str | None:
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return (env.get(env_name) or "").strip() or None


@dataclass(frozen=True)
class SecretSource:
    key: str  # the config key naming a file for it
    env: str
    what: str
    required: bool


SOURCES = (
    SecretSource("bot_token_file", TOKEN_ENV, "the bot token", required=True),
    SecretSource("secret_key_file", SECRET_KEY_ENV, "the secret key", required=True),
    SecretSource("operator_chat_id_file", OPERATOR_CHAT_ENV, "the operator chat id", required=False),
)


def _malformed(source: SecretSource, value: str) -> str | None:
    if source.env == TOKEN_ENV and ":" not in value:
        return "does not look like a bot token (id:secret)"
    if source.env == SECRET_KEY_ENV and len(value) < MIN_SECRET_KEY_LENGTH:
        return f"the secret key must be at least {MIN_SECRET_KEY_LENGTH} characters"
    if source.env == OPERATOR_CHAT_ENV and not value.lstrip("-").isdigit():
        return "must be a numeric chat id"
    return None


def credential_problems(
    config: Config, env: Mapping[str, str] | None = None, *, need_token: bool = True, require_env: bool = True
) -> list[Problem]:
    """Every missing or malformed secret, located by the config key or variable that supplies it.

    A secret file named in the config must exist; a secret expected in the environment is only
    required with `require_env` (checking a config on another machine than the server's)."""
    env = os.environ if env is None else env
    problems: list[Problem] = []
    for source in SOURCES:
        if source.env == TOKEN_ENV and not need_token:
            continue
        file_name = getattr(config.secrets, source.key)
        where = f"secrets.{source.key}" if file_name else source.env
        value = _read(env, source.env, file_name)
        if value is None:
            if file_name:
                problems.append(Problem(where, f"missing secret: {source.what} (no readable file {file_name!r})"))
            elif source.required and require_env:
                problems.append(Problem(where, f"missing secret: {source.what}"))
        elif message := _malformed(source, value):
            problems.append(Problem(where, message))
    return problems


def load_credentials(config: Config, env: Mapping[str, str] | None = None, *, need_token: bool = True) -> Credentials:
    """Read the secrets, or raise CredentialError naming each problem."""
    env = os.environ if env is None else env
    problems = credential_problems(config, env, need_token=need_token)
    if problems:
        raise CredentialError(problems)
    files = config.secrets
    operator = _read(env, OPERATOR_CHAT_ENV, files.operator_chat_id_file)
    return Credentials(
        bot_token=_read(env, TOKEN_ENV, files.bot_token_file) or "",
        secret_key=(_read(env, SECRET_KEY_ENV, files.secret_key_file) or "").encode(),
        operator_chat_id=int(operator) if operator else None,
    )
