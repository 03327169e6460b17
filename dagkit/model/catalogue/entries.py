"""What one catalogue entry is: a :class:`Setting`, a :class:`NodeKind`, an
:class:`EmbeddingModel`.

Plain classes with ``__slots__`` rather than dataclasses: the generated catalogue builds a few
hundred of them whenever ``dagkit validate`` starts, and a dataclass costs a millisecond to define.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

#: A setting's JSON type; ``any`` for a setting the platform stores whose type no source shows.
JsonType = Literal["string", "boolean", "integer", "number", "array", "object", "any"]


class _Value:
    """Equality, and a repr listing the fields, for slot classes holding plain data."""

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Value)
            and type(other) is type(self)
            and (self._fields() == other._fields())
        )

    __hash__ = None  # type: ignore[assignment]  # settings hold mappings: values, not keys

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Setting(_Value):
    """One documented settings key of a node kind.

    ``type`` is the JSON type. Arrays say what their items are with ``items_type`` (and, for
    arrays of objects, ``fields``); objects list their known keys in ``fields`` and may need at
    least one of ``one_required``. ``const`` pins the value. A setting that is not ``required``
    is ``nullable``: the platform fills its default for null, and returns null itself for the
    settings it stores. ``secret`` values are never repeated in messages.
    """

    __slots__ = (
        "const",
        "default",
        "description",
        "enum",
        "exclusive_maximum",
        "exclusive_minimum",
        "fields",
        "items_enum",
        "items_type",
        "maximum",
        "min_items",
        "minimum",
        "name",
        "nullable",
        "one_required",
        "required",
        "secret",
        "type",
    )

    def __init__(
        self,
        name: str,
        type: JsonType,
        *,
        default: Any = None,
        enum: tuple[Any, ...] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: float | None = None,
        exclusive_maximum: float | None = None,
        items_enum: tuple[str, ...] | None = None,
        required: bool = False,
        const: Any = None,
        description: str = "",
        items_type: JsonType | None = None,
        fields: Mapping[str, Setting] | None = None,
        one_required: tuple[str, ...] = (),
        min_items: int | None = None,
        secret: bool = False,
    ) -> None:
        self.name = name
        self.type: JsonType = type
        self.default = default
        self.enum = enum
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.exclusive_maximum = exclusive_maximum
        self.items_enum = items_enum
        self.required = required
        self.const = const
        self.nullable = not required
        self.description = description
        self.items_type: JsonType | None = items_type
        self.fields = fields
        self.one_required = one_required
        self.min_items = min_items
        self.secret = secret


class EmbeddingModel(_Value):
    """An embedding model's size: vector ``dimensions``, the most tokens it takes, and the
    largest chunker ``max_characters`` the docs recommend for it (about 3.5 per token; the docs
    call the ceiling approximate)."""

    __slots__ = ("dimensions", "max_characters", "max_tokens")

    def __init__(self, dimensions: int, max_tokens: int, max_characters: int) -> None:
        self.dimensions = dimensions
        self.max_tokens = max_tokens
        self.max_characters = max_characters


class NodeKind(_Value):
    """One kind of node: a ``type``/``subtype`` pair, told apart from kinds sharing the pair by
    ``discriminator`` (a settings key and its value; a kind whose discriminating setting has
    that value as its ``default`` is also the kind of a node that leaves the key out).

    ``provider`` is the provider a prompter or embed subtype stands for; ``task`` is a prompter's
    enrichment task. ``schema_def`` is the ``$defs`` entry of request-data.schema.json that
    types this kind's settings.
    """

    __slots__ = (
        "discriminator",
        "key",
        "label",
        "provider",
        "schema_def",
        "settings",
        "subtype",
        "task",
        "type",
    )

    def __init__(
        self,
        key: str,
        type: str,
        subtype: str,
        label: str,
        settings: Mapping[str, Setting],
        discriminator: tuple[str, Any] | None = None,
        provider: str | None = None,
        task: str | None = None,
        schema_def: str = "",
    ) -> None:
        self.key = key
        self.type = type
        self.subtype = subtype
        self.label = label
        self.settings = settings
        self.discriminator = discriminator
        self.provider = provider
        self.task = task
        self.schema_def = schema_def

    @property
    def required_settings(self) -> list[str]:
        return [s.name for s in self.settings.values() if s.required]
