"""``functional_call`` and ``stack_module_state``: a module as a function of its parameters.

``functional_call`` swaps the given tensors in for the module's parameters and buffers for one
call and restores them afterwards, so ``grad``, ``vmap`` and ``hessian`` can differentiate a
module with respect to its parameters.

>>> import autojac
>>> from autojac import nn
>>> from autojac.func import functional_call, grad
>>> model = nn.Linear(2, 1)
>>> params = {k: v.detach() for k, v in model.named_parameters()}
>>> x = autojac.tensor([[1., 2.]])
>>> g = grad(lambda p: functional_call(model, p, (x,)).sum())(params)
>>> g['weight'], g['bias']
(tensor([[1., 2.]]), tensor([1.]))
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from .._tensor import Tensor
from ..ops.shape import stack

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()


def _merge(dicts) -> dict:
    if isinstance(dicts, dict):
        return dicts
    if not isinstance(dicts, Sequence):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
                         f"but got {type(dicts)}")
    if not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    counts: dict[str, int] = {}
    for d in dicts:
        for k in d:
            counts[k] = counts.get(k, 0) + 1
    repeated = [k for k, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
    return {k: v for d in dicts for k, v in d.items()}


def _all_named_tensors(module) -> list[tuple[str, Tensor]]:
    return [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]


def _untie(module, given: dict) -> dict:
    """Give every name of a shared (tied) tensor the value given for one of its names."""
    names_of: dict[int, set[str]] = {}
    for name, t in _all_named_tensors(module):
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    out = dict(given)
    for name in given:
        if name not in tied:
            continue
        group = tied[name]
        values = {id(given[n]) for n in group if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, which are tied. "
                             "Consider using tie_weights=False")
        for other in group:
            out[other] = given[name]
    return out


def _check_keys(module, given: dict) -> None:
    valid = {name for name, _ in _all_named_tensors(module)}
    missing, unexpected = sorted(valid - set(given)), sorted(set(given) - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(), "\n\t".join(errors)))


def _swap(module, name: str, value):
    """Put ``value`` at dotted ``name`` (parameter, buffer or plain attribute); return what was there."""
    *path, last = name.split(".")
    owner = module
    for item in path:
        owner = getattr(owner, item)
    for table in (owner._parameters, owner._buffers):
        if last in table:
            old = table[last]
            table[last] = value  # bypasses the Parameter check: the value may be a traced or batched tensor
            return owner, last, table, old
    old = owner.__dict__.get(last, _MISSING)
    if value is _MISSING:
        owner.__dict__.pop(last, None)
    else:
        object.__setattr__(owner, last, value)
    return owner, last, None, old


@contextmanager
def _reparametrize(module, tensors: dict, tie_weights: bool, strict: bool):
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        _check_keys(module, tensors)
    saved = []
    try:
        for name, value in tensors.items():
            saved.append(_swap(module, name, value))
        yield
    finally:
        for owner, last, table, old in reversed(saved):
            if table is not None:
                table[last] = old
            elif old is _MISSING:
                owner.__dict__.pop(last, None)
            else:
                object.__setattr__(owner, last, old)


def functional_call(module, parameter_and_buffer_dicts, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by the given tensors.

    ``parameter_and_buffer_dicts`` is a dict of dotted names to tensors, or a tuple of such dicts
    (e.g. ``(params, buffers)``). Names not given keep the module's own tensors (unless ``strict``).
    """
    tensors = _merge(parameter_and_buffer_dicts)
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, tensors, tie_weights, strict):
        return module(*args, **kwargs)


def _stacked_leaf(tensors, name: str) -> Tensor:
    flags = {t.requires_grad for t in tensors}
    if len(flags) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = stack([t.detach() for t in tensors])
    return out.requires_grad_() if flags == {True} else out


def stack_module_state(models) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Stack the parameters and buffers of same-class models along a new leading dimension (for ``vmap``).

    >>> from autojac import nn
    >>> params, buffers = stack_module_state([nn.Linear(3, 2) for _ in range(4)])
    >>> params['weight'].shape, params['weight'].requires_grad, buffers
    (autojac.Size([4, 2, 3]), True, {})
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: _stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
