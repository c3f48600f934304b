"""How a facade hands a public method to the collaborator that owns it, typed and once
(the service's collaborators, the registry's plugin loader).

``connect = delegate("connections", Connections.connect)`` on
:class:`~navi_integrations.service.IntegrationService` makes
``service.connect(...)`` call ``service.connections.connect(...)``: the
signature and docstring are the collaborator's own (mypy and ``help()`` see
them), so nothing is restated on the facade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["delegate"]

P = ParamSpec("P")
R = TypeVar("R")


class delegate(Generic[P, R]):
    """A facade method answered by ``getattr(facade, collaborator).<method name>``."""

    def __init__(self, collaborator: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.collaborator = collaborator
        self.method = method
        self.__doc__ = method.__doc__
        self.__wrapped__ = method
        self._name = method.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name if name == self.method.__name__ else self.method.__name__

    @overload
    def __get__(self, instance: None, owner: type) -> delegate[P, R]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> Callable[P, R]: ...
    def __get__(
        self, instance: object | None, owner: type | None = None
    ) -> delegate[P, R] | Callable[P, R]:
        if instance is None:
            return self
        bound: Callable[P, R] = getattr(getattr(instance, self.collaborator), self._name)
        return bound

    def __repr__(self) -> str:
        return f"<delegate to {self.collaborator}.{self._name}>"
