"""``autojac.autograd``: reverse-mode differentiation with PyTorch's API."""

from . import forward_ad, functional
from .._core.anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .api import backward, grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import function, graph, profiler
from .function import Function, FunctionCtx, once_differentiable

__all__ = ["backward", "grad", "functional", "forward_ad", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "function", "Function", "FunctionCtx",
           "once_differentiable", "gradcheck", "gradgradcheck", "GradcheckError", "profiler", "graph"]
