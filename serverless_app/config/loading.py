"""Reading environment files: every problem of every file, each as
`FILE: key.path: what is wrong (given: VALUE)`, and the warnings about allowed values.

Free of cdktf imports: `main.py --check` validates configuration without paying for the AWS
provider bindings.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any, overload

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from serverless_app.config.across_files import UNIQUE_ACROSS_FILES
from serverless_app.config.aws_facts import PLACEHOLDER_ACCOUNT_ID
from serverless_app.config.base import DEFAULT_CONFIG_PATH, Model, StrictModel
from serverless_app.config.bootstrap import BootstrapRegions
from serverless_app.config.environment import StackConfig, warnings_of
from serverless_app.config.problems import NO_VALUE
from serverless_app.config.toml_text import TomlProblems, parse_toml

# The bootstrap file lives in a `bootstrap/` folder next to the environment files.
BOOTSTRAP_FILE = Path("bootstrap", "state.toml")
DEFAULT_BOOTSTRAP_CONFIG = DEFAULT_CONFIG_PATH / BOOTSTRAP_FILE


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
        raw = parse_toml(text)
    except TomlProblems as error:
        raise ConfigError(
            [
                f"{shown(path)}: {problem.message}"
                if problem.loc is None
                else _line(path, key_path(problem.loc), problem.message)
                for problem in error.problems
            ]
        ) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_at_most_shown(path, error.errors())) from None


# Problems listed per file; past them, one line counts the rest (10,000 bad list items would
# otherwise be 10,000 lines, and the first ones already say what to fix).
MAX_PROBLEMS_SHOWN = 50


def _at_most_shown(path: Path, items: list[ErrorDetails]) -> list[str]:
    lines = [_format_error(path, item) for item in items[:MAX_PROBLEMS_SHOWN]]
    rest = len(items) - len(lines)
    if rest:
        lines.append(
            f"{shown(path)}: (top level): {rest:,} more problems like the ones above; fix those "
            "and run again"
        )
    return lines


def key_path(loc: tuple[str | int, ...]) -> str:
    """`routes[2].function`, `vpc.public_subnets.a.cidr`: list items by index, from 0."""
    # Pydantic marks a problem with a dict key (tag key, variable name) by a "[key]" suffix.
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            # A key with a line break or other control character is shown quoted, escaped.
            name = _shortened(part if part.isprintable() else repr(part), KEY_SHOWN_CHARACTERS)
            text += f".{name}" if text else name
    return text or "(top level)"


# A problem line must fit a terminal: at most this much of a key, a message and a value.
KEY_SHOWN_CHARACTERS = 128
MESSAGE_SHOWN_CHARACTERS = 400
VALUE_SHOWN_CHARACTERS = 120
# Items and levels of a list or table shown before the rest is counted instead.
VALUE_SHOWN_LEVELS = 3


def shown_value(value: object) -> str:
    """A value as a problem line echoes it: its repr when short, else the start of it and a
    count of what was left out. Never fails: a 5 MB string, a 100-item list, a list nested
    deeper than repr can follow or an integer Python will not convert all print a few words."""
    return _shown(value, VALUE_SHOWN_CHARACTERS, VALUE_SHOWN_LEVELS)


def _shown(value: object, room: int, levels: int) -> str:
    if isinstance(value, str):
        return _shown_text(value, room)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, list | tuple | dict):
            return _shown_items(value, room, levels)
        return _shortened(repr(value), room)
    return _shown_integer(value)


def _shown_text(value: str, room: int) -> str:
    if len(value) <= room:
        return repr(value)
    return f"{value[: room // 2]!r}... ({len(value):,} characters)"


def _shown_integer(value: int) -> str:
    digits = len(str(abs(value))) if value.bit_length() < 1000 else _digit_count(value)
    if digits <= VALUE_SHOWN_CHARACTERS // 2:
        return repr(value)
    return f"{'a negative' if value < 0 else 'an'} integer of {digits:,} digits"


def _digit_count(value: int) -> int:
    """Decimal digits of a large integer without converting it (Python limits conversions)."""
    estimate = int(abs(value).bit_length() * 0.30102999566398) + 1
    return estimate if abs(value) >= 10 ** (estimate - 1) else estimate - 1


def _shown_items(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], room: int, levels: int
) -> str:
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    if not value:
        return opening + closing
    count = len(value)
    if levels == 0:
        return f"{opening}... {count:,} item{'s' * (count != 1)}{closing}"
    pairs = value.items() if isinstance(value, dict) else ((None, item) for item in value)
    shown: list[str] = []
    left = room
    for key, item in pairs:
        text = _shown(item, max(left, 8), levels - 1)
        if key is not None:
            text = f"{_shown(key, max(left, 8), 0)}: {text}"
        if shown and len(text) > left:
            break
        shown.append(text)
        left -= len(text) + 2
    rest = count - len(shown)
    more = f", ... ({rest:,} more)" if rest else ""
    return f"{opening}{', '.join(shown)}{more}{closing}"


def _shortened(text: str, room: int) -> str:
    return text if len(text) <= room else f"{text[: room // 2]}... ({len(text):,} characters)"


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
    value = "" if given is NO_VALUE else f" (given: {shown_value(given)})"
    # A rule's message may quote the value itself (the ipaddress module's do).
    return f"{shown(path)}: {location}: {_shortened(message, MESSAGE_SHOWN_CHARACTERS)}{value}"


def config_warnings(path: Path, config: StackConfig) -> list[str]:
    return [
        _line(path, key_path(warning.loc), f"warning: {warning.message}", warning.given)
        for warning in warnings_of(config)
    ]


PLACEHOLDER_ACCOUNT = f"the shipped placeholder {PLACEHOLDER_ACCOUNT_ID} matches no AWS account"


def placeholder_account_lines(path: Path, config: StackConfig, *, checking: bool) -> list[str]:
    """The shipped placeholder `account_id`. `make check` refuses it: a file that passes is
    one to apply. Synthesis only warns, so that a fresh clone synthesizes and serves (and the
    tests run) with the shipped files: Terraform refuses that stack (`allowed_account_ids`)."""
    if config.account_id != PLACEHOLDER_ACCOUNT_ID:
        return []
    if checking:
        message = f"{PLACEHOLDER_ACCOUNT}: set the account this environment deploys to"
    else:
        message = (
            f"warning: {PLACEHOLDER_ACCOUNT}: Terraform refuses to plan or apply this stack "
            "until account_id is set"
        )
    return [_line(path, "account_id", message)]


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
    clashes = [*_clashes_between_files(loaded), *_logging_region_problems(path, loaded)]
    problems.extend(line for _, line in clashes)
    clashing = {file for file, _ in clashes}
    return [(file, config) for file, config in loaded if file not in clashing], problems


def bootstrap_file_beside(path: Path) -> Path:
    """The bootstrap file that goes with the environment file or folder `path`."""
    return (path if path.is_dir() else path.parent) / BOOTSTRAP_FILE


def _logging_region_problems(
    path: Path, loaded: list[tuple[Path, StackConfig]]
) -> list[tuple[Path, str]]:
    """Every environment whose region the bootstrap file next to it leaves out of
    `api_logging_regions`: its API stages could not log. Without such a file, `terraform plan`
    makes the check instead (`constructs_lib.api_account.ApiLoggingRoleCheck`)."""
    bootstrap = bootstrap_file_beside(path)
    if not bootstrap.is_file():
        return []
    try:
        regions = load_config(bootstrap, BootstrapRegions).logging_regions
    except ConfigError as error:
        return [(bootstrap, line) for line in error.problems]
    message = (
        f"not in api_logging_regions of {shown(bootstrap)} ({', '.join(regions)}): API "
        "Gateway cannot log there until the bootstrap stack sets the account's logging role; add "
        "the region there and apply the bootstrap stack first"
    )
    return [
        (file, _line(file, "region", message, config.region))
        for file, config in loaded
        if config.region not in regions
    ]


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
