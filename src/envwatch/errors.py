"""The two kinds of error in envwatch, split by whose fault it is.

``PeerError``: somebody outside sent bad data (a data logger, an API client, an
import file). It carries a stable machine ``code`` that tests, logs and API
clients rely on, and a message in English and Chinese that a person can act on.

``ConfigError``: a configuration file an operator wrote is wrong (a peer
error too: the fix is in the file, named with its key).

``UsageError``: our own code called something the wrong way. It is a bug, never
the peer's fault, and is never sent back to a peer.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class PeerError(Exception):
    """The peer sent bad data. Subclasses name the layer that noticed it."""

    def __init__(self, code: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh

    def message(self, language: str = "en") -> str:
        """The message in ``language`` ("en" or "zh")."""
        return self.message_zh if language.startswith("zh") else self.message_en


class UsageError(Exception):
    """envwatch's own code misused an API (a bug on our side, not the peer's)."""


class ConfigError(PeerError):
    """A configuration file (versioned data such as code tables) failed its checks."""

    def __init__(self, path: object, problem_en: str, problem_zh: str) -> None:
        super().__init__("bad_config", f"{path}: {problem_en}", f"{path}：{problem_zh}")


def load_toml_model(model: type[Model], path: Path) -> Model:
    """The TOML file at ``path`` checked as ``model`` (a pydantic model of
    versioned data), or ConfigError naming the file and the first problem."""
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(path, f"{where}: {first['msg']}", f"{where}：{first['msg']}") from None
