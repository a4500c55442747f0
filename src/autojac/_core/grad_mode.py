"""Thread-local grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True
    inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for differentiation (per thread).

    >>> import autojac
    >>> autojac.is_grad_enabled()
    True
    """
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _GradModeContext:
    """Base for context managers that also work as decorators."""

    _target: bool

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._ctor_args()):
                return func(*args, **kwargs)

        return wrapper

    def _ctor_args(self) -> tuple:
        return ()

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._target
        return self

    def __exit__(self, *exc) -> None:
        STATE.enabled = self._prev


class _BareDecorator(_GradModeContext):
    """Also usable as a decorator without parentheses: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecorator):
    """Disable gradient recording inside a ``with`` block or a decorated function.

    >>> import autojac
    >>> x = autojac.ones(2, requires_grad=True)
    >>> with autojac.no_grad():
    ...     (x * 2).requires_grad
    False
    """

    _target = False


class enable_grad(_BareDecorator):
    """Re-enable gradient recording inside ``no_grad``.

    >>> import autojac
    >>> with autojac.no_grad(), autojac.enable_grad():
    ...     autojac.is_grad_enabled()
    True
    """

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; works as a function, context manager or decorator.

    >>> import autojac
    >>> with autojac.set_grad_enabled(False):
    ...     autojac.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}")
        self._target = mode
        self._prev = STATE.enabled
        STATE.enabled = mode  # takes effect immediately, as in PyTorch

    def _ctor_args(self) -> tuple:
        return (self._target,)

    def __call__(self, func):
        STATE.enabled = self._prev  # used as a decorator: don't leave the mode switched
        return super().__call__(func)

    def __enter__(self):
        return self


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (tensors made inside never record a graph).

    >>> import autojac
    >>> with autojac.inference_mode():
    ...     autojac.ones(2, requires_grad=True).mul(2).requires_grad
    False
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used bare: @inference_mode

    def __init__(self, mode: bool = True) -> None:
        self._mode = mode
        self._target = not mode

    def _ctor_args(self) -> tuple:
        return (self._mode,)

    def __enter__(self):
        self._prev_inf = STATE.inference
        STATE.inference = self._mode
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        STATE.inference = self._prev_inf
        super().__exit__(*exc)
