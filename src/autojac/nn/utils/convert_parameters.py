"""Parameters to one flat vector and back (``torch.nn.utils.parameters_to_vector``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..._tensor import Tensor
from ...ops.shape import cat


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one vector (differentiable).

    >>> import autojac
    >>> from autojac.nn.utils import parameters_to_vector
    >>> parameters_to_vector([autojac.ones(2, 2), autojac.zeros(1)])
    tensor([1., 1., 1., 1., 0.])
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the matching slice of ``vec`` (the slices share ``vec``'s memory).

    >>> import autojac
    >>> from autojac.nn.utils import vector_to_parameters
    >>> a, b = autojac.zeros(2), autojac.zeros(1)
    >>> vector_to_parameters(autojac.tensor([1., 2., 3.]), [a, b]); a, b
    (tensor([1., 2.]), tensor([3.]))
    """
    if not isinstance(vec, Tensor):
        module, name = type(vec).__module__, type(vec).__qualname__
        raise TypeError(f"expected torch.Tensor, but got: {name if module == 'builtins' else module + '.' + name}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
