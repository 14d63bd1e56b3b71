"""``access()``: the one place where exceptions become ``{"return": code, "error": ...}``.

The kernel of a process is kept between calls (one per ``CK_HOME``), so repeated
requests reuse the open index.
"""

from __future__ import annotations

import os
import _thread

from .errors import CKError, InvalidInput
from .home import home_dir

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

_kernels: dict[str, Any] = {}
_paths: dict[tuple[str | None, str | None], str] = {}  # (argument, $CK_HOME) → home folder
_lock = _thread.RLock()
lock = _lock  # public: servers hold it around a policy check and the call it guards


def kernel_for(home: str | None = None) -> Any:
    from .kernel.kernel import Kernel

    if home is not None and not isinstance(home, str):
        raise InvalidInput(f"home must be a folder path (a string), not {type(home).__name__}")
    if home and home in _kernels:
        path = home
    else:
        key = (home, os.environ.get("CK_HOME"))
        path = _paths.get(key) or _paths.setdefault(key, home_dir(home))
    with _lock:
        kernel = _kernels.get(path)
        if kernel is None or not os.path.isdir(path):
            if os.path.lexists(path) and not os.path.isdir(path):
                raise InvalidInput(f"the home {path} is not a folder; give a folder for "
                                   "CK_HOME (it is created if missing)")
            if not _kernels:
                import atexit

                atexit.register(reset)
            kernel = _kernels[path] = Kernel(path)
        return kernel


def reset() -> None:
    """Forget the cached kernels (tests use this when they switch homes)."""
    with _lock:
        for kernel in _kernels.values():
            kernel.close()
        _kernels.clear()


def access(request: dict[str, Any], home: str | None = None) -> dict[str, Any]:
    try:
        if not isinstance(request, dict):
            raise InvalidInput(f"a request must be a dict, not {type(request).__name__}")
        if "home" in request:
            request = dict(request)
            home = request.pop("home", None) or home
        with _lock:
            return kernel_for(home).call(request)  # type: ignore[no-any-return]
    except CKError as exc:
        return exc.to_result()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # an unexpected failure still answers in the contract's shape
        from .errors import missing_extra

        missing = missing_extra(exc)
        if missing is not None:
            return missing.to_result()
        return {"return": 1, "error": f"internal error: {type(exc).__name__}: {exc}"}
