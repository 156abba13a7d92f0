"""Where numba keeps wedgenet's compiled kernels: a per-user directory, never site-packages.

numba's default for ``@njit(cache=True)`` is a ``__pycache__`` directory next to the source file.
For an installed package that is ``site-packages/wedgenet/*/__pycache__``: it outlives an
uninstall, and a later ``pip install -e .`` finds the leftover ``site-packages/wedgenet`` directory
(now a namespace package without ``__init__.py``) ahead of the editable finder, so ``import
wedgenet`` returns an empty module.  This module registers a numba cache locator that applies only
to wedgenet's own source files and puts their cache in, by precedence:

1. ``$NUMBA_CACHE_DIR`` when set (numba's own setting is respected: this locator steps aside);
2. ``$WEDGENET_CACHE_DIR/numba`` when ``WEDGENET_CACHE_DIR`` is set;
3. ``$XDG_CACHE_HOME/wedgenet/numba``, else ``~/.cache/wedgenet/numba`` (``%LOCALAPPDATA%`` on
   Windows, ``~/Library/Caches`` on macOS);
4. ``<tempdir>/wedgenet-<user>/numba`` when none of these is writable.

:func:`install` runs when this module is imported, which must happen before any kernel module
(numba picks the locator when the decorator runs): the ``algebra``, ``dictionaries`` and ``polish``
subpackages import it first thing.  It imports numba, so ``import wedgenet`` alone does not.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

ENV_VAR = "WEDGENET_CACHE_DIR"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_installed = False


def user_cache_root() -> Path:
    """The per-user cache root of wedgenet (``WEDGENET_CACHE_DIR`` or the platform's cache home)."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return Path(base) / "wedgenet" / "Cache"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~")) / "Library" / "Caches" / "wedgenet"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wedgenet"


def _fallback_root() -> Path:
    try:
        user = getpass.getuser()
    except Exception:  # no user name (some containers): the uid is enough to keep users apart
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"wedgenet-{user}"


def numba_cache_dir() -> Path:
    """Directory under which numba caches wedgenet's kernels (``NUMBA_CACHE_DIR`` when set)."""
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir).expanduser()
    return user_cache_root() / "numba"


def _is_package_file(py_file: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(py_file), _PACKAGE_DIR]) == _PACKAGE_DIR
    except ValueError:  # different drives on Windows
        return False


def install() -> None:
    """Register the locator with numba (idempotent; cheap after the first call)."""
    global _installed
    if _installed:
        return
    from numba.core import caching, config

    base = getattr(caching, "UserProvidedCacheLocator", None) or caching._UserProvidedCacheLocator

    class WedgenetCacheLocator(base):  # type: ignore[misc, valid-type]
        """numba cache locator for wedgenet's source files: the per-user directory of this module."""

        def __init__(self, py_func, py_file, root: Path):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(str(root), self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            if config.CACHE_DIR or not _is_package_file(py_file) or not os.path.exists(py_file):
                return None  # NUMBA_CACHE_DIR (numba's own locator) or not one of wedgenet's files
            for candidate in (numba_cache_dir(), _fallback_root() / "numba"):
                self = cls(py_func, py_file, candidate)
                try:
                    self.ensure_cache_path()
                except OSError:
                    continue
                return self
            return None

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    impl._locator_classes = [WedgenetCacheLocator] + [
        c for c in impl._locator_classes if c.__name__ != "WedgenetCacheLocator"
    ]
    _installed = True


install()
