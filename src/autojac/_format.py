"""Printing tensors the way PyTorch does: ``tensor([0., 2., 4.], grad_fn=<MulBackward0>)``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _dtype


@dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Set how tensors print (PyTorch's options and profiles)."""
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and style (integer-valued, fixed or scientific) for all elements."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in values.reshape(-1):
                self.max_width = max(self.max_width, len(self._plain(v)))
            return
        flat = values.reshape(-1).astype(np.float64)
        finite = flat[np.isfinite(flat) & (flat != 0)]
        # non-finite values print as nan/inf and take part in the width
        for v in flat[~np.isfinite(flat)]:
            self.max_width = max(self.max_width, len(str(v)))
        if finite.size == 0:
            return
        absvals = np.abs(finite)
        lo, hi = absvals.min(), absvals.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                widths = [len(f"{v:.{p}e}") for v in finite]
            else:
                widths = [len(f"{v:.0f}") + 1 for v in finite]
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
            widths = [len(f"{v:.{p}e}") for v in finite]
        else:
            widths = [len(f"{v:.{p}f}") for v in finite]
        self.max_width = max(self.max_width, max(widths))
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    @staticmethod
    def _plain(v) -> str:
        if isinstance(v, (np.bool_, bool)):
            return "True" if v else "False"
        return str(v.item() if hasattr(v, "item") else v)

    def format(self, v) -> str:
        p = PRINT_OPTS.precision
        if self.floating:
            v = float(v)
            if self.sci_mode:
                s = f"{v:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{p}f}"
        else:
            s = self._plain(v)
        return (self.max_width - len(s)) * " " + s


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown (edges only for large tensors), for width computation."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a.reshape(1)
    if a.shape[0] > 2 * e:
        parts = [_summarized(a[i]) for i in list(range(e)) + list(range(a.shape[0] - e, a.shape[0]))]
    else:
        parts = [_summarized(a[i]) for i in range(a.shape[0])]
    return np.concatenate([p.reshape(-1) for p in parts]) if parts else a.reshape(-1)


def _vector(a: np.ndarray, fmt, indent: int, summarize: bool) -> str:
    width = fmt.max_width + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / width)))
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        items = [fmt.format(v) for v in a[:e]] + [" ..."] + [fmt.format(v) for v in a[-e:]]
    else:
        items = [fmt.format(v) for v in a]
    lines = [items[i:i + per_line] for i in range(0, len(items), per_line)]
    body = [", ".join(line) for line in lines]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(body) + "]"


def _body(a: np.ndarray, fmt, indent: int, summarize: bool) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, fmt, indent, summarize)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_body(a[i], fmt, indent + 1, summarize) for i in range(e)] + ["..."] +
                  [_body(a[i], fmt, indent + 1, summarize) for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_body(a[i], fmt, indent + 1, summarize) for i in range(a.shape[0])]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int, force_newline: bool) -> str:
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if force_newline or last_line + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last_line = indent + len(s)
            force_newline = False
        else:
            parts.append(", " + s)
            last_line += len(s) + 2
    parts.append(")")
    return "".join(parts)


def format_data(a: np.ndarray, indent: int = 7) -> str:
    """The bracketed body of a tensor's repr."""
    summarize = a.size > PRINT_OPTS.threshold
    if a.size == 0:
        return "[]"
    shown = _summarized(a) if summarize else a
    if a.dtype.kind == "c":
        return _body_complex(a, indent, summarize)
    fmt = _Formatter(shown)
    return _body(a, fmt, indent, summarize)


def _body_complex(a: np.ndarray, indent: int, summarize: bool) -> str:
    fr, fi = _Formatter(a.real), _Formatter(a.imag)

    class _C:
        max_width = fr.max_width + fi.max_width + 2

        @staticmethod
        def format(v):
            im = fi.format(abs(v.imag)).lstrip()
            return f"{fr.format(v.real)}{'+' if v.imag >= 0 else '-'}{im}j"

    return _body(a, _C, indent, summarize)


def tensor_repr(t) -> str:
    """``repr`` of a Tensor in PyTorch's format."""
    a = t._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    default = _dtype.get_default_dtype()
    d = t.dtype
    show_dtype = d not in (default, _dtype.int64, _dtype.bool) and not (
        d.is_complex and d is _dtype.default_for_category(3))
    if a.size == 0 and a.shape != (0,):
        suffixes.append(f"size={tuple(a.shape)}")
        body = "[]"
    else:
        body = format_data(a, indent)
    if a.size == 0 and d is not _dtype.int64:
        show_dtype = show_dtype or d is not default
    if show_dtype:
        suffixes.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + _add_suffixes(body, suffixes, indent, force_newline=False)
