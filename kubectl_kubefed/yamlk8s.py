"""YAML as Kubernetes reads it: sigs.k8s.io/yaml, that is go-yaml v2 turned into JSON.

kubectl and Helm read YAML with go-yaml v2's resolution rules (YAML 1.1 booleans such as
``y``/``on``, Go's integer syntax ``0o17``/``0x1F``/``017``, no sexagesimal numbers, no
timestamps: a date stays a string) and then convert the result to JSON (map keys become
strings, ``.nan``/``.inf`` values are refused). PyYAML's C parser does the scanning and
composing; this module resolves scalars and builds the values the way go-yaml does, merge
keys included, and refuses excessive alias expansion with go-yaml's own rule. The dumper
quotes every string that go-yaml (or a YAML 1.1 reader) would read as anything else, and
never writes anchors.

Limits (documented in docs/deviations.md): documents nest at most ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import math
import re
import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH: Final = 200

_T = "tag:yaml.org,2002:"
STR: Final = _T + "str"
_INT, _FLOAT, _BOOL, _NULL = _T + "int", _T + "float", _T + "bool", _T + "null"
_TIMESTAMP, _BINARY, _MERGE = _T + "timestamp", _T + "binary", _T + "merge"
_SEQ, _MAP = _T + "seq", _T + "map"
_PLAIN: Final = "!kubefed/plain"  # an untagged plain scalar, resolved by go-yaml's rules
_RESOLVABLE = frozenset({_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP})

try:
    from yaml._yaml import CParser

    _Base: type = CParser
    C_YAML = True
except ImportError:  # pragma: no cover - wheels without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyParser(Reader, Scanner, Parser, Composer):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    _Base = _PyParser
    C_YAML = False


class YamlError(ValueError):
    """What is wrong, and the 1-based line (of the text given) when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# --- scalars: go-yaml v2's resolve() -------------------------------------------------

_HINT: dict[str, str] = {"+": "S", "-": "S", ".": "."}
_HINT.update(dict.fromkeys("0123456789", "D"))
_HINT.update(dict.fromkeys("yYnNtTfFoO~", "M"))
_WORDS: dict[str, Any] = {}
for _value, _spellings in (
    (True, "y Y yes Yes YES true True TRUE on On ON"),
    (False, "n N no No NO false False FALSE off Off OFF"),
    (None, "~ null Null NULL"),
    (math.nan, ".nan .NaN .NAN"),
    (math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
    (-math.inf, "-.inf -.Inf -.INF"),
):
    _WORDS.update(dict.fromkeys(_spellings.split(), _value))
_WORDS[""] = None
_WORD_TAGS = {str(v): t for v, t in ((True, _BOOL), (False, _BOOL), (None, _NULL))}

_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_TIMESTAMP_RE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,]\d+)?(Z|[-+]\d\d:\d\d)?)?"
)
_INT64 = 1 << 63
_UINT64 = 1 << 64


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), then ParseUint: None when neither accepts it."""
    m = _GO_INT.fullmatch(plain)
    if m is None or len(plain) > 80:
        return None
    sign, body = m.groups()
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        n = int(body[2:], {"0x": 16, "0o": 8, "0b": 2}[prefix])
    else:
        n = int(body, 8) if len(body) > 1 and body[0] == "0" else int(body)
    if sign == "-":
        n = -n
    if -_INT64 <= n < _INT64 or (not sign and n < _UINT64):
        return n
    return None


def _resolve(value: str, timestamp: bool) -> tuple[str, Any]:
    """(tag, value) of a scalar as go-yaml v2 resolves it; floats are left raw."""
    hint = _HINT.get(value[:1]) if value else "N"
    if hint is None:
        return STR, value
    if value in _WORDS:
        word = _WORDS[value]
        if isinstance(word, float):
            return _FLOAT, word
        return _WORD_TAGS[str(word)], word
    if hint == "M":
        return STR, value
    if hint == ".":
        if _DOT_FLOAT.fullmatch(value):
            f = float(value)
            if not math.isinf(f):
                return _FLOAT, f
        return STR, value
    if timestamp and _is_timestamp(value):
        return _TIMESTAMP, value
    plain = value.replace("_", "")
    n = _go_int(plain)
    if n is not None:
        return _INT, n
    if _GO_FLOAT.fullmatch(plain):
        f = float(plain)
        if not math.isinf(f):  # Go: a range error, so not a float
            return _FLOAT, f
    return STR, value


def _is_timestamp(value: str) -> bool:
    """go-yaml v2's parseTimestamp: the four layouts it tries with time.Parse."""
    m = _TIMESTAMP_RE.fullmatch(value)
    if m is None:
        return False
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if m[6] is None:
        return True
    if m[5] and m[9]:  # the space-separated layout has no zone
        return False
    if m[4] and not m[9]:  # the T layouts need one
        return False
    return int(m[6]) < 24 and int(m[7]) < 60 and int(m[8]) < 60


_INVALID_BYTES = {code: "\ufffd" for code in range(0xDC80, 0xDD00)}


def _short(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def _tagged(tag: str, value: str) -> Any:
    """A scalar with an explicit tag (``!!int 3``, ``!!binary ...``, ``!custom x``)."""
    if tag == _BINARY:
        try:
            raw = base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
        except (binascii.Error, ValueError):
            raise YamlError("!!binary value contains invalid base64 data") from None
        # As Go's JSON encoder writes the bytes: U+FFFD for each byte that is not UTF-8.
        return raw.decode("utf-8", errors="surrogateescape").translate(_INVALID_BYTES)
    if tag not in _RESOLVABLE:
        return value  # !!str, custom tags: the text itself
    rtag, out = _resolve(value, timestamp=tag == _TIMESTAMP)
    if rtag == tag:
        return out
    if tag == _FLOAT and rtag == _INT and -_INT64 <= out < _INT64:
        return float(out)
    raise YamlError(f"cannot decode {_short(rtag)} `{value}` as a {_short(tag)}")


def json_number(f: float) -> float | int:
    """A float as its JSON text reads back: integral values as the integer Go prints."""
    if f.is_integer() and abs(f) < 1e21:
        return int(Decimal(repr(f)))
    if math.isnan(f) or math.isinf(f):
        raise YamlError(f"{_go_float_name(f)} cannot be represented in JSON")
    return f


def _go_float_name(f: float) -> str:
    return ".nan" if math.isnan(f) else (".inf" if f > 0 else "-.inf")


def _float32_key(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 32), as sigs.k8s.io/yaml turns float keys into strings."""
    if math.isnan(f) or math.isinf(f):
        return _go_float_name(f)
    try:
        f32 = struct.unpack("f", struct.pack("f", f))[0]
    except OverflowError:
        f32 = math.copysign(math.inf, f)
    if math.isinf(f32):
        return _go_float_name(f32)
    if f32 == 0:
        return "-0" if math.copysign(1, f32) < 0 else "0"
    for precision in range(1, 10):
        text = f"{f32:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            break
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exp = int(exponent)
    if exp < -4 or exp >= 6:
        frac = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{frac}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole = digits[: exp + 1].ljust(exp + 1, "0")
    frac = digits[exp + 1 :]
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _key(value: Any) -> str:
    """A map key as sigs.k8s.io/yaml writes it into JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value >= _INT64:
            raise YamlError(f"unsupported map key {value} (beyond int64)")
        return str(value)
    if isinstance(value, float):
        return _float32_key(value)
    if value is None:
        raise YamlError("a null map key cannot be represented in JSON")
    raise YamlError("invalid map key: a key must be a scalar")


# --- alias expansion: go-yaml v2's rule -----------------------------------------------

_RATIO_LOW, _RATIO_HIGH = 400_000, 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _RATIO_LOW:
        return 0.99
    if decoded >= _RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _RATIO_LOW) / (_RATIO_HIGH - _RATIO_LOW)


_IN_PROGRESS: Final = object()


class _Builder:
    """Builds one document's value from its node graph, as go-yaml's decoder would.

    With ``aliases`` (the text may hold an alias), nodes met again are aliases: each use is
    a fresh copy (as in JSON), and expansion is counted and refused like go-yaml does.
    """

    def __init__(self, aliases: bool, nonspecific: frozenset[int] = frozenset()) -> None:
        self.tracking = aliases
        self.nonspecific = nonspecific  # where scalars tagged "!" start: strings to go-yaml
        self.memo: dict[int, Any] = {}
        self.decoded = 0
        self.aliased = 0

    def _check(self, node: Node) -> None:
        if (
            self.aliased > 100
            and self.decoded > 1000
            and self.aliased > _allowed_alias_ratio(self.decoded) * self.decoded
        ):
            raise YamlError("document contains excessive aliasing (refused)", node.start_mark.line + 1)

    def build(self, node: Node, depth: int = 0) -> Any:
        self.decoded += 1
        if not self.tracking:
            return self._construct(node, depth)
        memo = self.memo.get(id(node))
        if memo is not None:
            if memo is _IN_PROGRESS:
                raise YamlError("anchor value contains itself", node.start_mark.line + 1)
            value, size = memo
            self.decoded += size
            self.aliased += size
            self._check(node)
            return _copy(value, depth, node)
        self._check(node)
        self.memo[id(node)] = _IN_PROGRESS
        start = self.decoded
        value = self._construct(node, depth)
        self.memo[id(node)] = (value, self.decoded - start + 1)
        return value

    def _construct(self, node: Node, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            value = self._scalar(node)
            if type(value) is float:
                try:
                    return json_number(value)
                except YamlError as err:
                    raise YamlError(err.message, node.start_mark.line + 1) from None
            return value
        if depth >= MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        # Most scalars are strings: those are taken here, without a call per value, unless
        # aliases are counted (each value then goes through build).
        strings = not self.tracking
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            for child in node.value:
                if strings and type(child) is ScalarNode and (text := self._string(child)) is not None:
                    self.decoded += 1
                    items.append(text)
                else:
                    items.append(self.build(child, depth + 1))
            return items
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if knode.value == "<<" and (knode.tag == _PLAIN or knode.tag == _MERGE):
                self._merge(vnode, out, depth)
                continue
            if not isinstance(knode, ScalarNode):
                raise YamlError("invalid map key: a key must be a scalar", knode.start_mark.line + 1)
            self.decoded += 1
            key = self._scalar(knode)
            if type(key) is not str:
                try:
                    key = _key(key)
                except YamlError as err:
                    raise YamlError(err.message, knode.start_mark.line + 1) from None
            if strings and type(vnode) is ScalarNode and (text := self._string(vnode)) is not None:
                self.decoded += 1
                out[key] = text
            else:
                out[key] = self.build(vnode, depth + 1)
        return out

    def _string(self, node: Node) -> str | None:
        """The scalar's text when it is a string to go-yaml, with no resolving; else None."""
        value: str = node.value
        tag = node.tag
        if tag == STR or (tag == _PLAIN and value and value[0] not in _HINT):
            return value
        if self.nonspecific and node.start_mark.index in self.nonspecific:
            return value
        return None

    def _scalar(self, node: Node) -> Any:
        if self.nonspecific and node.start_mark.index in self.nonspecific:
            return node.value
        return _scalar(node)

    def _is_alias(self, node: Node) -> bool:
        return self.tracking and id(node) in self.memo

    def _merge(self, node: Node, out: dict[str, Any], depth: int) -> None:
        """``<<``: go-yaml v2 writes the merged keys over the ones already set; later keys
        win over them; in a list, earlier maps win over later ones."""
        if isinstance(node, SequenceNode) and not self._is_alias(node):
            children = list(reversed(node.value))
        else:
            children = [node]
        for child in children:
            if not isinstance(child, MappingNode):
                raise YamlError(
                    "map merge requires map or sequence of maps as the value", child.start_mark.line + 1
                )
            out.update(self.build(child, depth))


def _copy(value: Any, depth: int, node: Node) -> Any:
    if type(value) is dict:
        if depth >= MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        return {k: _copy(v, depth + 1, node) for k, v in value.items()}
    if type(value) is list:
        if depth >= MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        return [_copy(v, depth + 1, node) for v in value]
    return value


def _scalar(node: Node) -> Any:
    """A scalar's value as go-yaml v2 decodes it into interface{} (floats not yet JSON)."""
    value: str = node.value
    tag = node.tag
    if tag == _PLAIN:
        if value and value[0] not in _HINT:
            return value
        return _resolve(value, timestamp=False)[1]
    if tag == STR:
        return value
    try:
        return _tagged(tag, value)
    except YamlError as err:
        raise YamlError(err.message, node.start_mark.line + 1) from None


class _Composer(_Base):  # type: ignore[misc]
    """PyYAML's (C) parser and composer; scalars keep their text, we resolve them."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, *_: Any) -> None:  # pragma: no cover - pure-Python composer
        pass

    def ascend_resolver(self) -> None:  # pragma: no cover - pure-Python composer
        pass


_SLASH_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\/")


def _refuse_slash_escapes(text: str) -> None:
    """libyaml accepts YAML 1.2's ``\\/`` escape in double quotes; go-yaml v2 does not."""
    loader = yaml.CSafeLoader if C_YAML else yaml.SafeLoader
    try:
        for token in yaml.scan(text, Loader=loader):
            if isinstance(token, yaml.ScalarToken) and token.style == '"':
                raw = text[token.start_mark.index : token.end_mark.index]
                if _SLASH_ESCAPE.search(raw):
                    raise YamlError("found unknown escape character", token.start_mark.line + 1)
    except yaml.YAMLError:
        return  # the parser reports it


# Where libyaml can see an anchor ("&name") or an alias ("*name"): at the start of the text
# or after a blank, a flow indicator or ":", followed by a name character. A false match
# only costs speed; a miss would skip the alias rules. There is no alias without an anchor.
_BEFORE_TOKEN = frozenset("[{,:")
_NOT_NAME = frozenset(",[]{}")


def _may_start_token(text: str, indicator: str) -> bool:
    """Whether ``indicator`` occurs where libyaml may read it as one (see above)."""
    at = text.find(indicator)
    while at != -1:
        before = text[at - 1] if at else " "
        after = text[at + 1 : at + 2]
        if (
            (before.isspace() or before in _BEFORE_TOKEN)
            and after
            and not (after.isspace() or after in _NOT_NAME)
        ):
            return True
        at = text.find(indicator, at + 1)
    return False


def _may_have_aliases(text: str) -> bool:
    return "*" in text and _may_start_token(text, "&") and _may_start_token(text, "*")


_BANG = re.compile(r"!(?:[ \t\r\n,\]\}]|$)")


def _nonspecific_scalars(text: str) -> frozenset[int]:
    """Where scalars with the non-specific tag ``!`` start: libyaml resolves them like plain
    scalars, go-yaml v2 keeps them as strings."""
    loader = yaml.CSafeLoader if C_YAML else yaml.SafeLoader
    found: set[int] = set()
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.ScalarEvent) and event.tag == "!" and event.start_mark:
                found.add(event.start_mark.index)
    except yaml.YAMLError:
        pass  # the parser reports it
    return frozenset(found)


def documents(text: str) -> Iterator[Any]:
    """The values of a YAML stream's documents, one per document (None for an empty one).

    Raises YamlError (with the line) for text kubectl would refuse.
    """
    if "\\/" in text:
        _refuse_slash_escapes(text)
    aliases = _may_have_aliases(text)
    nonspecific = _nonspecific_scalars(text) if _BANG.search(text) else frozenset()
    composer = _Composer(text)
    try:
        while True:
            try:
                if not composer.check_node():
                    return
                node = composer.get_node()
            except yaml.MarkedYAMLError as err:
                mark = err.problem_mark or err.context_mark
                problem = err.problem or err.context or "invalid YAML"
                raise YamlError(problem, mark.line + 1 if mark else None) from None
            except yaml.YAMLError as err:
                raise YamlError(str(err).splitlines()[0]) from None
            except RecursionError:
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep") from None
            yield None if node is None else _Builder(aliases, nonspecific).build(node)
    finally:
        composer.dispose()


def first_document(text: str) -> Any:
    """The first document of ``text`` only, as go-yaml's Unmarshal reads it."""
    for value in documents(text):
        return value
    return None


# --- writing ------------------------------------------------------------------------

_PLAIN_SAFE_FIRST = frozenset(_HINT) | frozenset("<")


def _plain_tag(value: str) -> str:
    """The tag a plain scalar gets from go-yaml v2; ``!ambiguous`` when a YAML 1.1
    reader would read something else (so the dumper quotes the string)."""
    if value and value[0] not in _PLAIN_SAFE_FIRST:
        return STR
    if value == "<<":
        return "!ambiguous"  # a merge key to go-yaml
    return _resolve(value, timestamp=False)[0]


try:
    _DumperBase: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - wheels without libyaml
    _DumperBase = yaml.SafeDumper


# The tag each string written plain would be read with (the emitter asks twice per scalar;
# keys and many values repeat): bounded, so a long-lived process does not grow with it.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX: Final = 1 << 16


class Dumper(_DumperBase):  # type: ignore[misc]
    """Emits YAML that reads back, through sigs.k8s.io/yaml, to the same values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return STR
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = _plain_tag(value)
                if tag == STR:
                    # Also what YAML 1.1 readers (PyYAML, older tools) make of it.
                    other: str = super().resolve(kind, value, implicit)
                    tag = STR if other == STR else "!ambiguous"
                if len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                    _PLAIN_TAGS[value] = tag
            return tag
        return _SEQ if kind is SequenceNode else _MAP

    def represent(self, data: Any) -> None:
        """The representer's node graph, built directly for JSON-like values (dicts, lists,
        strings, ints, bools, None): what ``represent_data`` builds for them, without its
        per-value lookups. Anything else, and other dump options, go the general way."""
        if self.sort_keys or self.default_flow_style is not False or self.default_style is not None:
            super().represent(data)
            return
        self.serialize(self._node(data))  # no anchors (ignore_aliases): no state to reset

    def _node(self, data: Any) -> Node:
        kind = type(data)
        if kind is str:
            return ScalarNode(STR, data, style="|" if "\n" in data else None)
        if kind is dict:
            node = self._node
            return MappingNode(_MAP, [(node(k), node(v)) for k, v in data.items()], flow_style=False)
        if kind is list:
            return SequenceNode(_SEQ, [self._node(v) for v in data], flow_style=False)
        if kind is bool:
            return ScalarNode(_BOOL, "true" if data else "false")
        if kind is int:
            return _represent_int(self, data)
        if data is None:
            return ScalarNode(_NULL, "null")
        built: Node = self.represent_data(data)
        return built


def _represent_str(dumper: Dumper, value: str) -> Node:
    style = "|" if "\n" in value else None
    node: Node = dumper.represent_scalar(STR, value, style=style)
    return node


def _represent_int(dumper: Dumper, value: int) -> Node:
    # Beyond int64/uint64 go-yaml reads digits as a float: say so, rather than "!!int".
    tag = _INT if -_INT64 <= value < _UINT64 else _FLOAT
    node: Node = dumper.represent_scalar(tag, str(value))
    return node


Dumper.add_representer(str, _represent_str)
Dumper.add_representer(int, _represent_int)
