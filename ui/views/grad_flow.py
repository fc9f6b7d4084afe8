"""How the gradient flows back through a chunk. The log over training is a session recorder
(ui/session/grad_flow.py); GradFlow, its rows, is re-exported here for the figures."""

from __future__ import annotations

import numpy as np

from ui.session.grad_flow import GradFlow

__all__ = ["GradFlow", "vanishing_ratio"]


def vanishing_ratio(dh_norms: np.ndarray) -> float:
    """||dL/dh(0)|| / ||dL/dh(T-1)||: below 1, the gradient shrinks on its way back through time."""
    last = float(dh_norms[-1]) if len(dh_norms) else 0.0
    return float(dh_norms[0]) / last if last > 0 else float("nan")
