"""sha256 without ``hashlib``'s start-up cost (it loads OpenSSL): the interpreter's own
implementation where there is one, ``hashlib`` otherwise. Same digests either way."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    class Hash(Protocol):
        def update(self, data: bytes, /) -> None: ...

        def hexdigest(self) -> str: ...


def _impl() -> Callable[..., Hash]:
    for module in ("_sha2", "_sha256"):  # CPython 3.12+, 3.11
        try:
            return getattr(importlib.import_module(module), "sha256")  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    from hashlib import sha256 as fallback  # pragma: no cover - other interpreters

    return fallback  # pragma: no cover


sha256 = _impl()
