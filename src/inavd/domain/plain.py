"""Read-only plain copies of frozen settings models, for code that reads them on the hot path.

A pydantic model defines `__getattr__`, and a class with one is kept off CPython's fast path for
every attribute read, found or not: a field read costs ≈ 40 ns against ≈ 13 ns for a slot. The
gates read a dozen limits for every order they pass and the signals their thresholds for every
fund they visit. `plain(model)` holds the same values (the same objects: a frozen model's dicts and
lists are shared, not copied) under the same names, as slots, and nothing else: no methods, no
private attributes, no setting. Take it once, where the model is handed over, and read fields only.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_VIEWS: dict[type[BaseModel], type] = {}


def plain(model: M) -> M:
    """The fields of `model` as a plain read-only object (typed as the model: read fields only)."""
    cls = type(model)
    view = _VIEWS.get(cls)
    if view is None:
        view = _VIEWS[cls] = _view_class(cls)
    return cast(M, view(model))


def _view_class(cls: type[BaseModel]) -> type:
    names = tuple(cls.model_fields)

    def __init__(self: Any, model: BaseModel) -> None:
        for name in names:
            object.__setattr__(self, name, getattr(model, name))

    def __setattr__(self: Any, name: str, value: object) -> None:
        raise AttributeError(f"{cls.__name__} is frozen: {name} cannot be set")

    def __repr__(self: Any) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"plain {cls.__name__}({fields})"

    body = {"__slots__": names, "__init__": __init__, "__setattr__": __setattr__,
            "__repr__": __repr__}  # fmt: skip
    return type(f"Plain{cls.__name__}", (), body)
