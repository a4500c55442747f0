"""``autojac.compile`` and ``autojac.compiler``: trace once, replay as plain NumPy.

>>> import autojac as torch
>>> @torch.compile
... def f(x):
...     return (x.sin() * x).sum()
>>> f(torch.tensor([1., 2.]))          # traced: runs eagerly, records the program
tensor(2.6601)
>>> f(torch.tensor([0.5, 3.]))         # replayed: NumPy calls only
tensor(0.6631)
"""

from __future__ import annotations

from collections.abc import Callable

from ._compiled import CompiledCallable, CompileError
from .._core.trace import _current

__all__ = ["compile", "CompileError", "CompiledCallable", "reset", "is_compiling"]

_ALL: list = []


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False):
    """``torch.compile``'s signature: returns ``model`` compiled, or a decorator when ``model`` is None.

    Each new input signature (shapes, dtypes, ``requires_grad``, grad mode, and the Python numbers
    the function closes over) is traced once; later calls replay the NumPy program. Anything a trace
    cannot capture (``.item()``, ``bool(tensor)`` deciding control flow, ``.numpy()``, random draws,
    in-place writes into captured tensors) makes that signature run eagerly, with a warning naming
    the cause and the line; ``fullgraph=True`` makes it an error. ``dynamic``, ``backend``, ``mode``
    and ``options`` are accepted for compatibility.
    """
    if mode is not None and mode not in ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: default, reduce-overhead, max-autotune, "
                           "max-autotune-no-cudagraphs")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")

    def wrap(fn: Callable):
        if disable:
            return fn
        if not callable(fn):
            raise RuntimeError(f"compile(): argument 'model' must be callable, got {type(fn).__name__}")
        compiled = CompiledCallable(fn, fullgraph=fullgraph, dynamic=dynamic, mode=mode)
        _ALL.append(compiled)
        return compiled

    return wrap if model is None else wrap(model)


def reset() -> None:
    """Forget every traced program (``torch.compiler.reset``)."""
    for c in _ALL:
        c._cache.clear()
        c._warned.clear()


def is_compiling() -> bool:
    """Whether the current thread is tracing a compiled function."""
    return _current() is not None
