"""Records: small immutable value classes that cost nothing to define.

``@dataclass(frozen=True, slots=True)`` writes its methods as source text and compiles them when
its module is imported: about a millisecond a class, and ``dagkit validate`` starts for every CI
run. The records on that path (a finding, its rule, a file's result) subclass :class:`Record`
instead: plain classes that annotate their fields (in order, as a dataclass does), name them in
``__slots__`` and take them in that order in a hand-written ``__init__``. :class:`Record` gives
them what the dataclass gave: equality and hashing by value, a repr naming the fields,
immutability, pickling and :meth:`Record.replace`.

A subclass's ``__init__`` sets its fields with ``object.__setattr__`` (the record refuses
``setattr``), and its parameters are named as its fields, so that :meth:`Record.replace` and
unpickling can call it.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, NoReturn, Self

__all__ = ["Record"]


class Record:
    """An immutable value: equal (and hashed) by its class and its fields' values."""

    __slots__: ClassVar[tuple[str, ...]] = ()
    #: The fields' names, in the order the class and its bases annotate them.
    _fields: ClassVar[tuple[str, ...]] = ()
    #: The fields' values of a record, as a tuple (an attrgetter: called as ``self._values(self)``).
    _values: ClassVar[Callable[..., tuple[Any, ...]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(
            name
            for klass in reversed(cls.__mro__)
            # not inspect.get_annotations: importing inspect costs more than a dataclass
            for name, kind in klass.__dict__.get("__annotations__", {}).items()  # noqa: RUF063
            if not str(kind).startswith("ClassVar")
        )
        slots = {name for klass in cls.__mro__ for name in klass.__dict__.get("__slots__", ())}
        if set(cls._fields) != slots:
            raise TypeError(f"{cls.__name__}: __slots__ must name exactly the annotated fields")
        getter = attrgetter(*cls._fields) if cls._fields else (lambda _: ())
        # attrgetter of one name gives the value itself, not a 1-tuple
        cls._values = (lambda r: (getter(r),)) if len(cls._fields) == 1 else getter

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._values(self) == self._values(other))

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self._fields, self._values(self), strict=True)
        )
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(
            f"cannot assign to field {name!r} of an immutable {type(self).__name__}"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"cannot delete {name!r}: a {type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[Self], tuple[Any, ...]]:
        return type(self), self._values(self)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` made (as :func:`dataclasses.replace`)."""
        values = dict(zip(self._fields, self._values(self), strict=True))
        values.update(changes)
        return type(self)(**values)
