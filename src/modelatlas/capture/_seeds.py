"""Recording the random seeds a training script sets while a capture block is open.

``random.seed``, ``numpy.random.seed``, ``numpy.random.default_rng`` and
``torch.manual_seed`` are wrapped while at least one block is open and restored when the
last one closes. numpy and torch are never imported here: if they are already imported
their functions are wrapped at once, otherwise an import hook wraps them when the script
imports them inside the block. Each wrapper calls the original first, then records the
integer seed (the last call of each function wins); a seed that is not an ``int`` (None,
an array, a ``SeedSequence``) is not recorded.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

# (module, attribute, seed key): what is wrapped, and under which key its seed is recorded.
TARGETS = (
    ("random", "seed", "python"),
    ("numpy.random", "seed", "numpy"),
    ("numpy.random", "default_rng", "numpy.default_rng"),
    ("torch", "manual_seed", "torch"),
)

_lock = threading.Lock()
_listeners: list[Callable[[str, int], None]] = []
_originals: dict[tuple[str, str], Any] = {}


def _record(key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    seed = args[0] if args else kwargs.get("seed", kwargs.get("a"))
    if isinstance(seed, bool) or not isinstance(seed, int):
        return
    for listener in list(_listeners):
        listener(key, seed)


def _wrap(module: ModuleType, attribute: str, key: str) -> None:
    original = getattr(module, attribute, None)
    if original is None or (module.__name__, attribute) in _originals:
        return

    @functools.wraps(original)
    def recording(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        _record(key, args, kwargs)
        return result

    _originals[(module.__name__, attribute)] = original
    setattr(module, attribute, recording)


def _wrap_loaded(name: str) -> None:
    module = sys.modules.get(name)
    if module is None:
        return
    for target, attribute, key in TARGETS:
        if target == name:
            _wrap(module, attribute, key)


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then wraps the seed functions of the module it loaded."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        with _lock:
            if _listeners:
                _wrap_loaded(module.__name__)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it lets the other finders find numpy.random and torch, then
    puts :class:`_Loader` around the loader they return."""

    names = frozenset(t[0] for t in TARGETS) - {"random"}

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


_finder = _Finder()


def start(listener: Callable[[str, int], None]) -> None:
    """Send each recorded seed to ``listener`` until :func:`stop`."""
    with _lock:
        if not _listeners:
            for name in {t[0] for t in TARGETS}:
                _wrap_loaded(name)
            sys.meta_path.insert(0, _finder)
        _listeners.append(listener)


def stop(listener: Callable[[str, int], None]) -> None:
    """Stop sending to ``listener``; the last one out restores the original functions."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)
        if _listeners:
            return
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        for (name, attribute), original in list(_originals.items()):
            module = sys.modules.get(name)
            if module is not None:
                setattr(module, attribute, original)
        _originals.clear()

