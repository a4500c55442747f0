"""One row of the op tables: an op, the inputs it is checked on, and what the checks may assume.

A row is ``fn(T, *inputs)`` where ``T`` is ``autojac`` or ``torch`` (the two share their API, so one
callable serves both sides), the input shapes and the domain they are drawn from (see
``_oracle.sample``), or fixed ``values`` at a kink, tie or zero. Flags switch off the checks that do
not apply to a row (say why in a comment beside it); tolerances default to the float64/float32 floors
of the checks in ``_checks.py`` and a family table may raise them for all its rows (``Rows(...)``).

>>> rows = Rows("demo", rtol=1e-8)
>>> rows.op("sin", lambda T, x: x.sin(), ((),), ((2, 3),))
>>> [c.id for c in rows], rows[0].rtol, rows[0].test_id
(['sin[s]', 'sin[2x3]'], 1e-08, 'demo:sin[s]')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._oracle import COMPLEX_DOMAINS, rng_for, sample


@dataclass(frozen=True)
class Case:
    family: str  # the table the row belongs to: the prefix of its test ids
    name: str
    fn: Callable
    shapes: tuple  # one shape per input
    domain: str | tuple = "real"  # one for all inputs, or one per input (``_oracle.sample``)
    values: tuple | None = None  # fixed inputs (ties, kinks, zeros) instead of random ones
    complex_out: bool = False  # real inputs, complex outputs: run as a complex row (complex dtypes' precisions)

    # which checks apply
    fd: bool = True  # finite differences (VJP and JVP): False at kinks, ties and where values are nan
    d2: bool = True  # second derivatives against torch (and the batched create_graph check)
    names: bool = True  # grad_fn names against torch (False where torch fuses or decomposes the op)
    torch_fwd: bool = True  # torch.func.jvp supports the op: compare forward mode with it (else FD judge)
    adjoint: bool = True  # <v, J t> = <J^T v, t> (False where the VJP is symmetrized, as torch's, and the JVP not)
    oracle: Callable | None = None  # torch's side of second-derivative and forward-mode checks where its op has none

    # tolerances (rtol; atol as the check says): float64 unless named
    vtol: float = 1e-10  # value against torch (atol vtol / 100)
    rtol: float = 1e-9  # derivatives against torch: VJP, second derivative, forward mode
    gatol: float = 1e-11  # atol of the VJP and forward mode against torch
    f32: tuple = (2e-5, 1e-6)  # value against torch in float32
    g32: tuple = (1e-4, 1e-5)  # VJP against torch in float32
    fdtol: float = 1e-5  # against central finite differences (atol fdtol / 10)
    btol: tuple = (1e-11, 1e-12)  # batched cotangents / tangents against the loop of single ones
    atol2: float = 1e-9  # atol of a batched create_graph VJP differentiated against the loop

    @property
    def id(self) -> str:
        """The row within its family (and the seed of its random inputs): ``mul[2x3_3]`` is mul on shapes
        (2, 3) and (3,), ``s`` a 0-d input; a row with fixed values is its name."""
        if self.values is not None:
            return self.name
        return f"{self.name}[{'_'.join('x'.join(map(str, s)) or 's' for s in self.shapes)}]"

    @property
    def test_id(self) -> str:
        return f"{self.family}:{self.id}"

    @property
    def is_complex(self) -> bool:
        doms = self.domain if isinstance(self.domain, tuple) else (self.domain,)
        return (self.complex_out or any(d in COMPLEX_DOMAINS for d in doms)
                or any(np.iscomplexobj(v) for v in self.values or ()))

    @property
    def dtypes(self) -> tuple:
        """The dtypes the row runs in against torch: complex inputs take the complex dtype of each precision,
        real inputs the real one."""
        return ("complex128", "complex64") if self.is_complex else ("float64", "float32")

    @property
    def derivative_dtypes(self) -> tuple:
        """The dtypes of the second-derivative and forward-mode checks: float64 for real rows; both for complex
        rows (complex64's own kernels and conj bits are worth a look)."""
        return self.dtypes if self.is_complex else self.dtypes[:1]

    def inputs(self) -> list:
        if self.values is not None:
            return [np.array(v, dtype=np.complex128 if np.iscomplexobj(v) else np.float64) for v in self.values]
        rng = rng_for(self.id)
        doms = self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(self.shapes)
        return [sample(rng, s, d) for s, d in zip(self.shapes, doms)]


class Rows(list):
    """A family's table: ``op`` and ``at`` lines append ``Case`` rows with the family's defaults."""

    def __init__(self, family: str, **defaults) -> None:
        super().__init__()
        self.family, self.defaults = family, defaults
        self._ids: set = set()

    def op(self, name: str, fn: Callable, *shape_sets: tuple, **kw) -> None:
        """One op on each of ``shape_sets`` (random inputs)."""
        for shapes in shape_sets:
            self._add(Case(self.family, name, fn, shapes, **{**self.defaults, **kw}))

    def at(self, name: str, fn: Callable, *values, **kw) -> None:
        """The op at fixed inputs (a kink, tie or special point): against torch only, no finite differences."""
        kw = {**self.defaults, "fd": False, **kw}
        self._add(Case(self.family, name, fn, tuple(np.shape(v) for v in values), values=values, **kw))

    def _add(self, case: Case) -> None:
        assert case.id not in self._ids, f"duplicate row {case.test_id}"
        self._ids.add(case.id)
        self.append(case)
