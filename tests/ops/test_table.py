"""Every op-table row (``table_*.py``) through every check that applies to it (``_checks.py``).

Test ids are ``test_<check>[<family>:<row>-<variant>]``, e.g. ``test_grad[core:mul[2x3_3]-float32]``;
``-k "nn:"`` selects a family, ``-k "core:mul["`` one op. See README.md for adding a row or a check.
"""

from __future__ import annotations

import itertools

import pytest

from . import _checks as check
from . import table_complex, table_core, table_linalg, table_linalg_more, table_nn, table_scan_index, table_special

# torch's own notices (kl_div 'mean', even-kernel 'same' padding, deprecated aliases, its vmap's slow fallbacks):
# not about the code under test
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning",
                                        "ignore:Using padding='same':UserWarning", "ignore:.*deprecated:UserWarning",
                                        "ignore:There is a performance drop:UserWarning")

ROWS = [*table_core.ROWS, *table_special.ROWS, *table_nn.ROWS, *table_scan_index.ROWS, *table_linalg.ROWS,
        *table_linalg_more.ROWS, *table_complex.ROWS]


def rows(applies=lambda case: True) -> list:
    """The rows a check applies to, as pytest params named by family and row."""
    return [pytest.param(c, id=c.test_id) for c in ROWS if applies(c)]


def rows_in(dtypes, applies=lambda case: True, *more) -> list:
    """``(row, dtype, *more)`` params: each row in each of ``dtypes(row)`` (and each combination of ``more``)."""
    return [pytest.param(c, d, *m, id="-".join([c.test_id, d, *map(str, m)]))
            for c in ROWS if applies(c) for d in dtypes(c) for m in itertools.product(*more)]


# --------------------------------------------------------------------------- the checks, one test each
@pytest.mark.parametrize("case,dtype", rows_in(lambda c: c.dtypes))
def test_value(case, dtype: str) -> None:
    check.value(case, dtype)


@pytest.mark.parametrize("case,dtype", rows_in(lambda c: c.dtypes))
def test_grad(case, dtype: str) -> None:
    check.grad(case, dtype)


@pytest.mark.parametrize("case,dtype", rows_in(lambda c: c.derivative_dtypes, lambda c: c.d2))
def test_second_derivative(case, dtype: str) -> None:
    check.second_derivative(case, dtype)


@pytest.mark.parametrize("case", rows(lambda c: c.fd))
def test_finite_differences(case) -> None:
    check.finite_differences(case)


@pytest.mark.parametrize("order", [1, 2], ids=["vjp", "vjp_of_grad"])
@pytest.mark.parametrize("case", rows())
def test_batched_cotangents(case, order: int) -> None:
    check.batched(case, order)


@pytest.mark.parametrize("case", rows(lambda c: c.d2))
def test_batched_create_graph(case) -> None:
    check.batched_create_graph(case)


@pytest.mark.parametrize("case", rows())
def test_jvp_rules(case) -> None:
    check.jvp(case)


@pytest.mark.parametrize("case", rows(lambda c: c.fd))
def test_jvp_finite_differences(case) -> None:
    check.jvp_finite_differences(case)


@pytest.mark.parametrize("case,dtype", rows_in(lambda c: c.derivative_dtypes, lambda c: c.torch_fwd))
def test_forward_mode(case, dtype: str) -> None:
    check.forward_mode(case, dtype)


@pytest.mark.parametrize("case,dtype,loss", rows_in(lambda c: c.dtypes, lambda c: c.is_complex, list(check.LOSSES)))
def test_real_loss(case, dtype: str, loss: str) -> None:
    check.real_loss(case, loss, dtype)


@pytest.mark.parametrize("case", rows())
def test_vmap(case) -> None:
    check.vmap(case, (0,) * len(case.inputs()))


@pytest.mark.parametrize("case", rows(lambda c: len(c.inputs()) > 1))
def test_vmap_first_input_only(case) -> None:
    check.vmap(case, (0,) + (None,) * (len(case.inputs()) - 1))


@pytest.mark.parametrize("case", rows())
def test_vmap_of_vjp(case) -> None:
    check.vmap_of_vjp(case)


# A new check kind goes here: a function in _checks.py taking a row, and one test above it in this style,
# parametrized over rows(<when it applies>) (with a Case flag if some rows must opt out, each saying why).


# --------------------------------------------------------------------------- the tables themselves
def test_row_ids_are_unique() -> None:
    ids = [c.test_id for c in ROWS]
    assert len(set(ids)) == len(ids)


def test_core_table_covers_the_brief() -> None:
    """Every family named in the brief has lines in the core table."""
    names = {c.name for c in table_core.ROWS}
    for required in ("add", "pow", "rpow", "neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin",
                     "cos", "tan", "tanh", "sigmoid", "relu", "softplus", "clamp", "maximum", "minimum", "where",
                     "sum", "mean", "prod", "max", "max_dim", "amax", "amin_dim", "var", "std", "norm", "norm_p1",
                     "norm_inf", "logsumexp", "softmax", "log_softmax", "reshape", "view", "flatten", "squeeze",
                     "unsqueeze", "transpose", "permute", "expand", "broadcast_to", "index_int", "index_slice",
                     "index_none", "index_ellipsis", "index_tensor_dup", "index_mask", "cat", "stack", "split",
                     "chunk", "matmul", "mm", "bmm", "dot", "outer", "diag_vec", "diag_mat", "trace", "tril",
                     "triu", "setitem_slice", "ties:max", "ties:maximum"):
        assert required in names, required
    assert sum(c.fd for c in table_core.ROWS) > 200
