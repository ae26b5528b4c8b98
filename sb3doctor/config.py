"""User configuration: ``sb3doctor.yaml`` or ``[tool.sb3doctor]`` in ``pyproject.toml``.

Found from the current directory upward (the first folder holding either wins), or given
with ``--config``. Keys::

    fail_on: warning            # info | warning | error | never
    lang: zh                    # en | zh
    disable: [PPO-KL-LOW, entropy_too_high]   # rule ids or categories
    rules:
      PPO-KL-HIGH: {severity: error, condition.value: 0.1}   # or condition: {value: 0.1}
      VF-EV-NEGATIVE: {enabled: false}
    extra_rules: [ci/rules]     # files or folders, relative to the config file
    expect: ["rollout/ep_rew_mean >= 475"]    # see sb3doctor.expect
    aggregate: median

Unknown keys, ids and categories are a :class:`~sb3doctor.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sb3doctor.errors import ConfigError
from sb3doctor.model import SEVERITIES

CONFIG_FILES = ("sb3doctor.yaml", ".sb3doctor.yaml")
KEYS = ("fail_on", "lang", "disable", "rules", "extra_rules", "expect", "aggregate", "group_by")
FAIL_ON = (*SEVERITIES, "never")
LANGS = ("en", "zh")
#: Parts of a rule a user may override (besides ``severity`` and ``enabled``).
OVERRIDABLE = ("condition", "escalate", "requires", "applies_to", "metric")


@dataclass
class Config:
    """A parsed configuration; every field is optional (``None``/empty = not set)."""

    path: Path | None = None
    fail_on: str | None = None
    lang: str | None = None
    disable: list[str] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_rules: list[Path] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    aggregate: str | None = None
    group_by: str | None = None

    def _err(self, message: str) -> ConfigError:
        return ConfigError(message, self.path if self.path is not None else "configuration")

    def select(self, rules: list[Any]) -> list[Any]:
        """The rules left after ``disable`` and ``rules: {ID: {enabled: false}}``, with overrides applied.

        :raises ConfigError: an unknown id or category, or an override that breaks the schema
        """
        from sb3doctor.ruleset import CATEGORIES, parse_rule

        by_id = {r.id: r for r in rules}
        categories = set(CATEGORIES)
        for item in self.disable:
            if item not in by_id and item not in categories:
                raise self._err(f"disable: unknown rule id or category {item!r} (see `sb3doctor rules`)")
        for rid in self.rules:
            if rid not in by_id:
                raise self._err(f"rules: unknown rule id {rid!r} (see `sb3doctor rules`)")
        out = []
        for rule in rules:
            if rule.id in self.disable or rule.category in self.disable:
                continue
            override = self.rules.get(rule.id)
            if override is None:
                out.append(rule)
                continue
            if override.get("enabled", True) is False:
                continue
            changes = {k: v for k, v in override.items() if k not in ("enabled", "severity")}
            if changes:
                raw = copy.deepcopy(rule.raw)
                for dotted, value in _flatten(changes):
                    _set_path(raw, dotted, value, self, rule.id)
                try:
                    new = parse_rule(raw, rule.path)
                except ConfigError as exc:
                    raise self._err(f"rules.{rule.id}: {exc.message}") from None
                rule = new
            if "severity" in override:
                rule = replace(rule, severity=override["severity"], severity_overridden=True)
            out.append(rule)
        return out


def _flatten(changes: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested overrides as dotted paths: ``{condition: {value: 1}}`` -> ``[("condition.value", 1)]``."""
    out: list[tuple[str, Any]] = []
    for key, value in changes.items():
        path = f"{prefix}{key}"
        # A window, requires entry or applies_to list is replaced whole, never merged.
        if (
            isinstance(value, Mapping)
            and key not in ("window", "requires")
            and path.split(".")[-1] != "requires"
        ):
            out.extend(_flatten(value, path + "."))
        else:
            out.append((path, value))
    return out


def _set_path(raw: dict[str, Any], dotted: str, value: Any, config: Config, rid: str) -> None:
    parts = dotted.split(".")
    if parts[0] not in OVERRIDABLE:
        raise config._err(
            f"rules.{rid}: cannot override {parts[0]!r} "
            f"(use severity, enabled, or keys under {', '.join(OVERRIDABLE)})"
        )
    node: Any = raw
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise config._err(f"rules.{rid}: {dotted!r} does not exist in the rule")
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value  # a key the kind does not know is caught when the rule is re-validated
    else:
        raise config._err(f"rules.{rid}: {dotted!r} does not exist in the rule")


def parse_config(data: Any, path: Path | None) -> Config:
    """Validate a configuration mapping (from YAML or ``[tool.sb3doctor]``)."""
    cfg = Config(path=path)
    if data is None:
        return cfg
    if not isinstance(data, Mapping):
        raise cfg._err("the configuration must be a mapping")
    for key in data:
        if key not in KEYS:
            raise cfg._err(f"unknown key {key!r} (known: {', '.join(KEYS)})")
    if "fail_on" in data:
        if data["fail_on"] not in FAIL_ON:
            raise cfg._err(f"fail_on must be one of {', '.join(FAIL_ON)}")
        cfg.fail_on = data["fail_on"]
    if "lang" in data:
        if data["lang"] not in LANGS:
            raise cfg._err(f"lang must be one of {', '.join(LANGS)}")
        cfg.lang = data["lang"]
    cfg.disable = _str_list(data.get("disable"), "disable", cfg)
    cfg.expect = _str_list(data.get("expect"), "expect", cfg)
    base = path.parent if path is not None else Path.cwd()
    cfg.extra_rules = [base / p for p in _str_list(data.get("extra_rules"), "extra_rules", cfg)]
    for key in ("aggregate", "group_by"):
        if key in data:
            if not isinstance(data[key], str):
                raise cfg._err(f"{key} must be a string")
            setattr(cfg, key, data[key])
    rules = data.get("rules") or {}
    if not isinstance(rules, Mapping):
        raise cfg._err("rules must map rule ids to overrides")
    for rid, override in rules.items():
        if not isinstance(override, Mapping):
            raise cfg._err(f"rules.{rid}: expected a mapping such as {{severity: warning}}")
        if "severity" in override and override["severity"] not in SEVERITIES:
            raise cfg._err(f"rules.{rid}.severity must be one of {', '.join(SEVERITIES)}")
        if "enabled" in override and not isinstance(override["enabled"], bool):
            raise cfg._err(f"rules.{rid}.enabled must be true or false")
        for key in override:
            if key not in ("severity", "enabled") and key.split(".")[0] not in OVERRIDABLE:
                raise cfg._err(
                    f"rules.{rid}: unknown key {key!r} "
                    f"(use severity, enabled, or keys under {', '.join(OVERRIDABLE)})"
                )
        cfg.rules[str(rid)] = dict(override)
    return cfg


def _str_list(value: Any, key: str, cfg: Config) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise cfg._err(f"{key} must be a list of strings")
    return list(value)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise ConfigError(
                "reading [tool.sb3doctor] needs Python 3.11+ or `pip install tomli`", path
            ) from None
    from sb3doctor.safe_yaml import MAX_BYTES

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read ({exc.strerror})", path) from None
    # Same bounds as YAML config: a 50 MB file with a million expectations is not a config.
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"larger than {MAX_BYTES // 1024} KiB", path)
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply", path) from None
    _check_toml_ints(data, path)
    return data


def _check_toml_ints(data: Any, path: Path) -> None:
    """Refuse integers outside TOML's own 64-bit range (tomllib reads any length): 10**400
    as a rule threshold would make float() and math.isfinite() raise."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            raise ConfigError("invalid TOML: an integer out of the 64-bit range", path)


def load_config_file(path: str | Path) -> Config:
    """Read one configuration file: YAML, or a ``pyproject.toml`` with ``[tool.sb3doctor]``.

    :raises ConfigError: unreadable, invalid, or unknown keys
    """
    p = Path(path)
    try:
        found = p.is_file()
    except OSError as exc:  # a name too long, a symlink loop
        raise ConfigError(f"cannot access it ({exc.strerror or exc})", p) from None
    if not found:
        raise ConfigError("configuration file not found", p)
    if p.suffix == ".toml":
        tool = _load_toml(p).get("tool", {})
        section = tool.get("sb3doctor") if isinstance(tool, dict) else None
        if section is None:
            raise ConfigError("no [tool.sb3doctor] table in this file", p)
        return parse_config(section, p)
    from sb3doctor.safe_yaml import YamlDataError, load_data

    try:
        data = load_data(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read ({exc})", p) from None
    except YamlDataError as exc:
        raise ConfigError(str(exc).replace("\n", " "), p) from None
    return parse_config(data, p)


def find_config(start: str | Path | None = None) -> Path | None:
    """The nearest ``sb3doctor.yaml``, or ``pyproject.toml`` with ``[tool.sb3doctor]``, from ``start`` up."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_FILES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        # A text check first: most pyproject files have no such table, and tomllib costs an import.
        if pyproject.is_file():
            try:
                has_table = "[tool.sb3doctor" in pyproject.read_text(encoding="utf-8", errors="replace")
            except OSError:
                has_table = False
            if has_table:
                return pyproject
    return None


def load_config(explicit: str | Path | None = None, start: str | Path | None = None) -> Config:
    """The configuration given with ``--config``, else the nearest one, else an empty one."""
    if explicit is not None:
        return load_config_file(explicit)
    found = find_config(start)
    return load_config_file(found) if found is not None else Config()


def merge_disable(config: Config, extra: Iterable[str]) -> Config:
    """``config`` with more ids/categories disabled (``--disable`` on the command line)."""
    return replace(config, disable=[*config.disable, *extra])


#: Longest ``--group-by`` / ``group_by`` pattern accepted: a grouping pattern names a folder
#: layout (``seed\d+``, ``(.*)/seed``), never a page of regex.
MAX_GROUP_BY = 200
_MAX_COUNT = 1000  # largest {m,n} repeat count: a{99999999999} overflows re's compiler
_MAX_REPEATS = 4  # repeats (+, *, {m,n}) in one pattern: r"^(.*)/seed_\d+/(\w+)_\d+$" has four


def check_group_by(pattern: str) -> None:
    r"""Refuse a ``--group-by`` pattern that could run for ever.

    Python's ``re`` backtracks: ``(a+)+$`` or ``(a|a)*b`` on a 40-character run name takes
    longer than the universe has. A linear-time engine (google-re2) would remove the problem
    but adds a compiled dependency to a tool that stays light, and ``re`` offers no timeout.
    So the pattern is bounded instead: at most :data:`MAX_GROUP_BY` characters, repeat counts
    up to 1000, no repeated group that itself holds a repeat or an alternation (the shapes
    that backtrack exponentially), and at most four repeats in all (``\d*\d*\d*...`` is
    polynomial, but of a degree that grows with each one). ``glob:`` patterns are translated
    by fnmatch without such nesting.

    :raises ConfigError: the pattern is too long, invalid, or may backtrack exponentially
    """
    if len(pattern) > MAX_GROUP_BY:
        raise ConfigError(f"--group-by pattern longer than {MAX_GROUP_BY} characters")
    if pattern.startswith("glob:"):
        return
    try:
        import re._parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse as parser
    try:
        tree = parser.parse(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ConfigError(f"bad --group-by pattern {pattern!r}: {exc}") from None
    counter = [0]
    problem = _backtracking(tree, parser, in_repeat=False, counter=counter)
    if problem is None and counter[0] > _MAX_REPEATS:
        # Even unnested, k repeats in a row (\d*\d*\d*...) cost n**k on a name of n characters.
        problem = f"more than {_MAX_REPEATS} repeats"
    if problem:
        raise ConfigError(f"--group-by pattern {pattern!r} refused: {problem} (it could run for ever)")


def _backtracking(sub: Any, parser: Any, *, in_repeat: bool, counter: list[int]) -> str | None:
    """Why the parsed pattern ``sub`` may backtrack exponentially, or None."""
    constants = parser._constants if hasattr(parser, "_constants") else parser
    repeats = {constants.MAX_REPEAT, constants.MIN_REPEAT}
    repeats |= {getattr(constants, "POSSESSIVE_REPEAT", constants.MAX_REPEAT)}
    for op, av in sub:
        if op in repeats:
            low, high, body = av
            if low > _MAX_COUNT or (high != constants.MAXREPEAT and high > _MAX_COUNT):
                return f"a repeat count above {_MAX_COUNT}"
            if in_repeat and high > 1:
                return "a repeat inside a repeated group"
            counter[0] += high > 1
            found = _backtracking(body, parser, in_repeat=in_repeat or high > 1, counter=counter)
            if found:
                return found
            continue
        if op == constants.BRANCH and in_repeat:
            return "an alternation inside a repeated group"
        for item in av if isinstance(av, (tuple, list)) else ():
            children = item if isinstance(item, list) else [item]
            for child in children:
                if isinstance(child, parser.SubPattern):
                    found = _backtracking(child, parser, in_repeat=in_repeat, counter=counter)
                    if found:
                        return found
    return None
