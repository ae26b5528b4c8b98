"""YAML for rule and config files: safe tags only, bounded, and no duplicate keys.

PyYAML's safe loader never builds Python objects, but it accepts ``fail_on: error`` followed
by ``fail_on: never`` (the second silently wins, and a CI gate passes), and it expands
aliases without limit (a "billion laughs" file takes gigabytes). :func:`load_data` composes
the document first, walks its node graph with a budget on nodes (aliases counted each time
they are used) and depth, rejects duplicate mapping keys, and only then builds the data.
"""

from __future__ import annotations

from typing import Any

#: Above these a file is refused: rule and config files are a few KB with a handful of levels.
MAX_BYTES = 1 << 20
MAX_NODES = 200_000
MAX_DEPTH = 64
#: Longest integer literal (characters): 1.8e308, the largest float, has 309 digits.
MAX_INT_CHARS = 300
_INT_TAG = "tag:yaml.org,2002:int"


class YamlDataError(ValueError):
    """The text is not acceptable YAML data; the message says why (with a line when known)."""


def load_data(text: str, loader_class: Any = None) -> Any:
    """Parse ``text`` as YAML data under the limits above.

    :param loader_class: a SafeLoader subclass with extra tags (rl-zoo's OrderedDict); the
        default is the C-accelerated SafeLoader

    :raises YamlDataError: invalid YAML, a duplicate key, too large, too deep or too many nodes
    """
    import yaml

    if len(text) > MAX_BYTES:
        raise YamlDataError(f"larger than {MAX_BYTES // 1024} KiB")
    loader = (loader_class or getattr(yaml, "CSafeLoader", yaml.SafeLoader))(text)
    try:
        node = loader.get_single_node()  # parse once: check the node graph, then build from it
        if node is None:
            return None
        _check(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise YamlDataError(f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()


def _check(root: Any) -> None:
    import yaml

    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise YamlDataError(f"more than {MAX_NODES} values once aliases are expanded")
        if depth > MAX_DEPTH:
            raise YamlDataError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen and key.value != "<<":
                        raise YamlDataError(
                            f"duplicate key {key.value!r} at line {key.start_mark.line + 1} "
                            f"(first at line {seen[key.value] + 1})"
                        )
                    seen[key.value] = key.start_mark.line
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
        elif node.tag == _INT_TAG and len(node.value) > MAX_INT_CHARS:
            # 10**400 is no threshold or setting; as a float it would be out of range, and
            # math.isfinite() and float() raise on it instead of answering.
            raise YamlDataError(f"number out of range at line {node.start_mark.line + 1}")
