"""``autojac.viz``: pictures of derivatives. ``graph`` draws the recorded graph, ``jacobian_plot`` a Jacobian.

Both need optional extras only when drawing (``pip install 'autojac[viz]'``: graphviz + matplotlib,
and Graphviz's ``dot`` program for SVG/PNG graphs); ``graph(...).source`` and ``.text()`` need nothing.
"""

from .graph import GraphPicture, graph
from .jacobian_plot import jacobian_plot

__all__ = ["graph", "GraphPicture", "jacobian_plot"]
