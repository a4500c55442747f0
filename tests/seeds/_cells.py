"""Helpers that run a seed's cells under autojac and under real PyTorch and compare what they display.

A seed's code is written once, in a function taking the module to bind to ``torch``; it records what each
cell displays (its ``print`` calls and its final expression) in a :class:`Cells` under the cell's label, as a
:class:`Snapshot` taken at display time (a notebook shows ``x.grad`` before later cells accumulate into it).
The tests check every displayed value twice: against the text the seed printed (numbers within a tolerance,
layout exactly), and against the same code run by PyTorch 2.13 (type, dtype, shape, requires_grad, grad_fn,
numbers and the printed text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import torch as real_torch

import autojac

# A number in a repr, not the digit that ends a name like ``MmBackward0``.
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?(?:e[+-]?\d+)?(?!\w)")
TENSORS = (autojac.Tensor, real_torch.Tensor)
SIZES = (autojac.Size, real_torch.Size)


@dataclass(frozen=True)
class Snapshot:
    """A displayed value as it was when displayed: the object, its printed text and what it held then."""

    value: Any
    text: str
    numbers: tuple[float, ...]
    meta: Any  # per tensor: (kind, dtype name, shape, requires_grad, is_leaf, grad_fn kind); nested for tuples


class Cells:
    """What each cell of a notebook displayed, in order, keyed by a unique label like ``"07 In[13]"``."""

    def __init__(self) -> None:
        self.shown: dict[str, list[Snapshot]] = {}
        self.vars: dict[str, Any] = {}  # the seed's variables a test wants to look at afterwards
        self._current: list[Snapshot] = []

    def cell(self, label: str) -> None:
        """Start recording the cell ``label``."""
        assert label not in self.shown, f"duplicate cell label {label}"
        self._current = self.shown[label] = []

    def print(self, *args: Any) -> None:
        """Stands in for ``print`` inside a seed: records the printed value (a tuple when several)."""
        value = args[0] if len(args) == 1 else args
        text = " ".join(str(a) for a in args)
        self._current.append(Snapshot(value, text, tuple(flat(value)), meta(value)))

    def show(self, value: Any) -> Any:
        """Records a cell's last expression, which Jupyter displays (as ``repr``)."""
        self._current.append(Snapshot(value, repr(value), tuple(flat(value)), meta(value)))
        return value


def run_both(seed: Callable[[ModuleType], Cells]) -> tuple[Cells, Cells]:
    """The seed's cells run under autojac and under real PyTorch."""
    return seed(autojac), seed(real_torch)


def numbers(text: str) -> list[float]:
    """Every number printed in ``text``, in order."""
    return [float(s) for s in _NUMBER.findall(text)]


def skeleton(text: str) -> str:
    """``text`` with each number replaced by ``#``: the layout of a repr without its digits."""
    return _NUMBER.sub("#", text)


def flat(value: Any) -> list[float]:
    """The numbers held by a tensor, or by a tuple/list of tensors and numbers, flattened in order."""
    if isinstance(value, TENSORS):
        return [float(v) for v in np.asarray(value.detach().tolist(), dtype=np.float64).ravel()]
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in flat(item)]
    if isinstance(value, (int, float)):
        return [float(value)]
    return []  # strings, generators: nothing numeric to compare


def node_kind(node: Any) -> str | None:
    """A graph node's class as its repr shows it, e.g. ``MulBackward0`` or ``CopySlices``."""
    return None if node is None else repr(node).split(" object at ")[0].lstrip("<")


def meta(value: Any) -> Any:
    """What a check against PyTorch compares besides numbers and text, taken at display time."""
    if isinstance(value, TENSORS):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.requires_grad,
                value.is_leaf, node_kind(value.grad_fn))
    if isinstance(value, SIZES):
        return ("size", tuple(value))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(meta(v) for v in value))
    if isinstance(value, (str, int, float, bool)) or value is None:
        return (type(value).__name__, value)
    return (type(value).__name__.split(".")[-1],)


def torch_text(text: str) -> str:
    """autojac's printed text as PyTorch's: autojac names its own module where PyTorch prints ``torch.``."""
    return text.replace("autojac.", "torch.")


def check_printed(shot: Snapshot, printed: str, atol: float, exact: bool) -> None:
    """A displayed value shows as the seed's ``printed`` text: same numbers within ``atol``, same layout.

    With ``exact`` the whole text must match character for character; without it (the seed's inputs were
    random and are known only rounded to 4 decimals) the last digits may differ, and the layout around the
    numbers must match.
    """
    np.testing.assert_allclose(shot.numbers, numbers(printed), rtol=0, atol=atol)
    np.testing.assert_allclose(numbers(shot.text), numbers(printed), rtol=0, atol=atol)
    got = torch_text(shot.text)
    if exact:
        assert got == printed
    else:
        assert skeleton(got) == skeleton(printed)


def check_same_as_torch(ours: Snapshot, theirs: Snapshot) -> None:
    """autojac displayed what PyTorch displays for the same code: metadata, numbers and printed text."""
    assert ours.meta == theirs.meta
    np.testing.assert_allclose(ours.numbers, theirs.numbers, rtol=1e-6, atol=1e-6)
    if not isinstance(theirs.value, real_torch.Generator):  # its repr shows an address
        assert torch_text(ours.text) == theirs.text


def same_as_torch(ours: Any, theirs: Any) -> None:
    """Two values computed outside a seed's cells agree like displayed ones do."""
    check_same_as_torch(Snapshot(ours, repr(ours), tuple(flat(ours)), meta(ours)),
                        Snapshot(theirs, repr(theirs), tuple(flat(theirs)), meta(theirs)))


def check_cell(ours: Cells, theirs: Cells, label: str, printed: list[str | None], atol: float = 1e-4,
               exact: bool = True) -> None:
    """Cell ``label`` displayed what the seed printed (``None`` where the seed printed nothing to check)
    and what PyTorch displays for the same code."""
    got, ref = ours.shown[label], theirs.shown[label]
    assert len(got) == len(ref) == len(printed), (label, len(got), len(ref), len(printed))
    for shot, reference, text in zip(got, ref, printed):
        check_same_as_torch(shot, reference)
        if text is not None:
            check_printed(shot, text, atol, exact)
