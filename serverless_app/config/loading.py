"""Reading environment files: every problem of every file, each as
`FILE: key.path: what is wrong (given: VALUE)`, and the warnings about allowed values.

Free of cdktf imports: `main.py --check` validates configuration without paying for the AWS
provider bindings.
"""

from __future__ import annotations

import codecs
import os
import stat
import tomllib
from pathlib import Path
from typing import overload

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from serverless_app.config.models import (
    DEFAULT_CONFIG_PATH,
    UNIQUE_ACROSS_FILES,
    Model,
    StackConfig,
    StrictModel,
    warnings_of,
)
from serverless_app.config.rules import NO_VALUE

DEFAULT_BOOTSTRAP_CONFIG = DEFAULT_CONFIG_PATH / "bootstrap" / "state.toml"


class ConfigError(Exception):
    """A configuration problem, already formatted as `FILE: key.path: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def shown(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: report the path as given
        resolved = Path(os.path.abspath(path))
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def config_files(path: Path) -> list[Path]:
    """A file as given, or every `*.toml` in a folder, sorted so output order is stable."""
    try:
        is_folder = stat.S_ISDIR(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigError([f"{shown(path)}: configuration file not found"]) from None
    except OSError as error:  # e.g. a symbolic link loop
        raise ConfigError([f"{shown(path)}: cannot read: {error.strerror}"]) from None
    if not is_folder:
        return [path]
    try:
        files = sorted(entry for entry in path.iterdir() if entry.suffix == ".toml")
    except OSError as error:
        raise ConfigError([f"{shown(path)}: cannot read the folder: {error.strerror}"]) from None
    if not files:
        raise ConfigError([f"{shown(path)}: no *.toml configuration files found"])
    return files


def read_config_text(path: Path) -> str:
    """The text of a readable UTF-8 regular file; ConfigError (one line) for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError([f"{shown(path)}: not a regular file"])
            data = file.read()
    except OSError as error:
        raise ConfigError([f"{shown(path)}: cannot read the file: {error.strerror}"]) from None
    if data.startswith(codecs.BOM_UTF8):
        raise ConfigError(
            [
                f"{shown(path)}: starts with a byte order mark (BOM), which TOML does not "
                "allow: save it as UTF-8 without BOM"
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([f"{shown(path)}: not UTF-8 text: {error}"]) from None


@overload
def load_config(path: Path) -> StackConfig: ...


@overload
def load_config(path: Path, model: type[Model]) -> Model: ...


def load_config(path: Path, model: type[StrictModel] = StackConfig) -> StrictModel:
    """Parse and validate one file; raise ConfigError listing every problem in it."""
    text = read_config_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{shown(path)}: invalid TOML: {error}"]) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([_format_error(path, item) for item in error.errors()]) from None


def key_path(loc: tuple[str | int, ...]) -> str:
    """`routes[2].function`, `vpc.public_subnets.a.cidr`: list items by index, from 0."""
    # Pydantic marks a problem with a dict key (tag key, variable name) by a "[key]" suffix.
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text += f".{part}" if text else part
    return text or "(top level)"


def _format_error(path: Path, item: ErrorDetails) -> str:
    location = key_path(item["loc"])
    context = item.get("ctx", {})
    has_value = True
    if item["type"] == "extra_forbidden":
        message = "unknown key"
    elif item["type"] == "missing":
        message, has_value = "required key is missing", False
    elif item["type"] == "value_error":
        message = str(context["error"])
    elif item["type"] == "config_rule":
        message, has_value = context["message"], context["has_value"]
    else:
        message = item["msg"]
    return _line(path, location, message, item["input"] if has_value else NO_VALUE)


def _line(path: Path, location: str, message: str, given: object = NO_VALUE) -> str:
    value = "" if given is NO_VALUE else f" (given: {given!r})"
    return f"{shown(path)}: {location}: {message}{value}"


def config_warnings(path: Path, config: StackConfig) -> list[str]:
    return [
        _line(path, key_path(warning.loc), f"warning: {warning.message}", warning.given)
        for warning in warnings_of(config)
    ]


def validate_configs(path: Path) -> tuple[list[tuple[Path, StackConfig]], list[str]]:
    """The files under `path` that are fine, and the problems of all the others."""
    try:
        files = config_files(path)
    except ConfigError as error:
        return [], error.problems
    problems: list[str] = []
    loaded: list[tuple[Path, StackConfig]] = []
    for file in files:
        try:
            loaded.append((file, load_config(file)))
        except ConfigError as error:
            problems.extend(error.problems)
    clashes = _clashes_between_files(loaded)
    problems.extend(line for _, line in clashes)
    clashing = {file for file, _ in clashes}
    return [(file, config) for file, config in loaded if file not in clashing], problems


def _clashes_between_files(loaded: list[tuple[Path, StackConfig]]) -> list[tuple[Path, str]]:
    """Every name a file shares with an earlier file, reported on the later file."""
    clashes: list[tuple[Path, str]] = []
    for kind, names_of in UNIQUE_ACROSS_FILES:
        first_user: dict[object, tuple[Path, str]] = {}
        for file, config in loaded:
            used_here: dict[object, tuple[Path, str]] = {}
            for location, value in names_of(config):
                if value is None:
                    continue
                if value in first_user:
                    other_file, other_key = first_user[value]
                    message = (
                        f"{kind} also used by {shown(other_file)} ({other_key}); "
                        "environments must differ"
                    )
                    clashes.append((file, _line(file, location, message, value)))
                else:
                    used_here[value] = (file, location)
            first_user |= used_here
    return sorted(clashes, key=lambda clash: clash[0])


def load_configs(path: Path) -> list[tuple[Path, StackConfig]]:
    """Load every file under `path`, collecting the problems of all files before failing."""
    loaded, problems = validate_configs(path)
    if problems:
        raise ConfigError(problems)
    return loaded
