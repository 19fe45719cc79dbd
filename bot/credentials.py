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


def credential_problems(
    config: Config, env: Mapping[str, str] | None = None, *, need_token: bool = True
) -> list[Problem]:
    """Every missing or malformed secret, located by the config key or variable that supplies it."""
    env = os.environ if env is None else env
    files = config.secrets
    problems: list[Problem] = []

    def where(key: str, env_name: str) -> str:
        return f"secrets.{key}" if getattr(files, key) else env_name

    if need_token:
        token = _read(env, TOKEN_ENV, files.bot_token_file)
        if token is None:
            problems.append(Problem(where("bot_token_file", TOKEN_ENV), "missing secret: the bot token"))
        elif ":" not in token:
            problems.append(Problem(where("bot_token_file", TOKEN_ENV), "does not look like a bot token (id:secret)"))
    key = _read(env, SECRET_KEY_ENV, files.secret_key_file)
    if key is None:
        problems.append(Problem(where("secret_key_file", SECRET_KEY_ENV), "missing secret: the secret key"))
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            Problem(
                where("secret_key_file", SECRET_KEY_ENV),
                f"the secret key must be at least {MIN_SECRET_KEY_LENGTH} characters",
            )
        )
    operator = _read(env, OPERATOR_CHAT_ENV, files.operator_chat_id_file)
    if operator is not None and not operator.lstrip("-").isdigit():
        problems.append(Problem(where("operator_chat_id_file", OPERATOR_CHAT_ENV), "must be a numeric chat id"))
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
