"""Anomaly detection: find the op whose backward produced NaN/inf, and where it was created.

Off by default; when on, every recorded node keeps the stack of the user code that created
it, and the engine checks every gradient a rule returns.
"""

from __future__ import annotations

import functools
import traceback
import warnings


class _Mode:
    enabled = False
    check_nan = True


MODE = _Mode()


def is_anomaly_enabled() -> bool:
    return MODE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return MODE.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off (a function, context manager or decorator).

    >>> import autojac
    >>> with autojac.autograd.set_detect_anomaly(True):
    ...     autojac.autograd.is_anomaly_enabled()
    True
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (MODE.enabled, MODE.check_nan)
        MODE.enabled, MODE.check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        MODE.enabled, MODE.check_nan = self._prev


class detect_anomaly:
    """Context manager / decorator: backward raises at the first NaN or inf a rule produces,
    naming the op and showing the forward code that created it.

    >>> import autojac
    >>> x = autojac.tensor([-1.0], requires_grad=True)
    >>> with autojac.autograd.detect_anomaly():
    ...     try:
    ...         autojac.sqrt(x).sum().backward()
    ...     except RuntimeError as e:
    ...         print(str(e).splitlines()[0])
    Function 'SqrtBackward0' returned nan values in its 0th output.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                      "be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self._prev = (MODE.enabled, MODE.check_nan)
        MODE.enabled, MODE.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc) -> None:
        MODE.enabled, MODE.check_nan = self._prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with warnings.catch_warnings():  # warned once, when the decorator was made
                warnings.simplefilter("ignore", UserWarning)
                mode = detect_anomaly(self.check_nan)
            with mode:
                return func(*args, **kwargs)
        return wrapper


def creation_stack() -> list:
    """The user-side stack at the point an op is recorded (autojac's own frames dropped)."""
    frames = traceback.extract_stack()
    return [f for f in frames if "/autojac/" not in f.filename.replace("\\", "/")]


def nan_error(op_name: str, i: int, stack, values=None) -> RuntimeError:
    """PyTorch's message (it checks NaN only; autojac also reports inf)."""
    import numpy as np

    kind = "nan" if values is None or np.isnan(values).any() else "inf"
    where = "".join(traceback.format_list(stack)) if stack else "  (the node was created before anomaly " \
        "detection was enabled)\n"
    return RuntimeError(
        f"Function '{op_name}' returned {kind} values in its {i}th output.\n"
        f"Traceback of forward call that caused the error:\n{where}"
    )


def warn_backward_error(node) -> None:
    """PyTorch's warning when a node's backward fails under anomaly mode: which node, and the forward stack."""
    stack = getattr(node, "trace", None)
    if stack:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                      f"{''.join(traceback.format_list(stack))}", UserWarning, stacklevel=4)
    else:
        warnings.warn(f"Error detected in {node.name()}. No forward pass information available. Enable detect "
                      "anomaly during forward pass for more information.", UserWarning, stacklevel=4)
