"""``autojac.func``: composable function transforms in the style of ``torch.func`` and JAX.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian``, ``vmap``, and Jacobian determinants ``jacdet`` / ``slogjacdet``;
``functional_call`` and ``stack_module_state`` to differentiate ``nn.Module``s through their parameters.
"""

from ._functional_call import functional_call, stack_module_state

from ._jacdet import jacdet, slogjacdet
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap",
           "jacdet", "slogjacdet", "functional_call", "stack_module_state"]
