"""Gradient clipping and the optimizers (SGD, momentum, Adagrad, RMSProp, Adam).

Clipping returns new arrays and statistics and leaves the pre-clip gradients untouched, so the app
can show gradients before and after clipping. Optimizers update the parameters in place (the
training loop's hot path) and keep their state in plain dicts of arrays keyed like the parameters,
which is what checkpoints save.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_core.layout import FlatParams, copy_into, copy_params, flat_buffers
from rnn_core.model import Params

Arrays = Sequence[np.ndarray]  # an optimizer's state arrays for one parameter, one per slot
CLIP_MODES = ("value", "norm", "off")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class ClipStats:
    norm_pre: dict[str, float]    # ||g|| of each parameter before clipping
    norm_post: dict[str, float]   # ... and after
    global_pre: float             # sqrt of the sum of squares over all parameters
    global_post: float
    clipped_fraction: float       # fraction of all gradient entries changed by clipping


def _norms(grads: Params) -> dict[str, float]:
    # math.sqrt of the dot product (a fifth of the cost of np.sqrt on a NumPy scalar; every step).
    if isinstance(grads, FlatParams) and grads.flat() is not None:
        return {k: math.sqrt(s.dot(s)) for k, s in zip(grads, grads.segments, strict=True)}
    return {k: math.sqrt(np.dot(g.ravel(), g.ravel())) for k, g in grads.items()}


def _global(norms: dict[str, float]) -> float:
    return math.sqrt(sum(n * n for n in norms.values()))


def clip_gradients(grads: Params, mode: str, clip: float) -> tuple[Params, ClipStats]:
    """Clip gradients and measure the effect.

    "value": every entry into [-clip, clip] (min-char-rnn's np.clip);
    "norm":  scale all gradients together so the global norm is at most clip;
    "off":   unchanged.
    """
    pre = _norms(grads)
    gpre = _global(pre)
    bufs = flat_buffers(grads)  # all gradients as one vector, when they are stored as one
    if bufs is not None:
        assert isinstance(grads, FlatParams)
        return _clip_flat(grads, bufs[0], mode, clip, pre, gpre)
    total = sum(g.size for g in grads.values())
    if mode == "value":
        clipped = {k: np.clip(g, -clip, clip) for k, g in grads.items()}
        n_clipped = sum(int(np.count_nonzero(np.abs(g) > clip)) for g in grads.values())
        post = _norms(clipped)
    elif mode == "norm":
        scale = clip / gpre if gpre > clip else 1.0
        clipped = {k: g * scale for k, g in grads.items()} if scale < 1.0 else dict(grads)
        # Scaling changes every nonzero entry (a zero stays zero).
        n_clipped = sum(int(np.count_nonzero(g)) for g in grads.values()) if scale < 1.0 else 0
        post = {k: n * scale for k, n in pre.items()}
    elif mode == "off":
        clipped, n_clipped, post = dict(grads), 0, dict(pre)
    else:
        raise ValueError(f"unknown clip mode {mode!r}; choose one of {CLIP_MODES}")
    return clipped, ClipStats(pre, post, gpre, _global(post), n_clipped / total)


def _clip_flat(grads: FlatParams, g: np.ndarray, mode: str, clip: float, pre: dict[str, float],
               gpre: float) -> tuple[Params, ClipStats]:
    """clip_gradients on gradients stored as one vector g: the same results in a few NumPy calls
    over all parameters at once, and no copy at all when nothing needs clipping."""
    if mode == "value":
        # Nothing to clip, the usual case: no entry exceeds its parameter's norm (with a margin for
        # the rounding of the norm), so only parameters with a larger norm need looking at (all
        # comparisons are False for NaN).
        if all(n <= 0.99 * clip or (a.max() <= clip and a.min() >= -clip)
               for a, n in zip(grads.segments, pre.values(), strict=True)):
            return grads.alias(), ClipStats(pre, pre.copy(), gpre, gpre, 0.0)
        else:
            c = np.clip(g, -clip, clip)
            clipped = grads.like(c)
            n_clipped = int(np.count_nonzero(np.abs(g) > clip))
            post = _norms(clipped)
    elif mode == "norm":
        scale = clip / gpre if gpre > clip else 1.0
        if scale < 1.0:
            clipped = grads.like(g * scale)
            n_clipped = int(np.count_nonzero(g))  # scaling changes every nonzero entry
        else:
            clipped, n_clipped = grads.alias(), 0
        post = {k: n * scale for k, n in pre.items()}
    elif mode == "off":
        return grads.alias(), ClipStats(pre, pre.copy(), gpre, gpre, 0.0)
    else:
        raise ValueError(f"unknown clip mode {mode!r}; choose one of {CLIP_MODES}")
    return clipped, ClipStats(pre, post, gpre, _global(post), n_clipped / g.size)


@dataclass(frozen=True)
class OptimizerState:
    """What an optimizer needs to resume exactly: its name, updates taken, and its state arrays."""

    name: str
    t: int
    slots: dict[str, Params]  # slot (e.g. "mem") -> parameter name -> array


class Optimizer:
    """Base class: `step` updates the weights and the state in place, and writes the change it
    made to each weight into `delta` (the trainer keeps it: Inspect's "last update").

    Each slot's state is one vector (a FlatParams), so when the weights and gradients are too (the
    trainer's are), an update is a handful of NumPy calls over all parameters at once instead of a
    handful per parameter; otherwise it goes parameter by parameter, with the same arithmetic.
    """

    name = "base"
    slots: tuple[str, ...] = ()
    eps = 1e-8

    def __init__(self, params: Params) -> None:
        self.t = 0  # updates taken
        self.state: dict[str, Params] = {slot: _zeros_like(params) for slot in self.slots}
        self._work: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def step(self, params: Params, grads: Params, lr: float, delta: Params | None = None) -> None:
        """Update params and the state in place; the change to the weights goes to `delta` when
        given (arrays shaped like params), else to a work array."""
        self.t += 1
        lr = float(lr)
        state = list(self.state.values())
        bufs = flat_buffers(params, grads, *state, *([delta] if delta is not None else []))
        if bufs is not None:
            d = bufs[-1] if delta is not None else self._scratch(bufs[0])[1]
            self._update(bufs[0], bufs[1], lr, d, bufs[2 : 2 + len(state)])
        else:
            for k, p in params.items():
                d = delta[k] if delta is not None else self._scratch(p)[1]
                self._update(p, grads[k], lr, d, [s[k] for s in state])

    def state_dict(self) -> OptimizerState:
        """A copy of everything needed to resume."""
        return OptimizerState(self.name, self.t, {s: copy_params(d) for s, d in self.state.items()})

    def load_state(self, state: OptimizerState) -> None:
        """Resume from `state` (ValueError, with nothing changed, if it does not fit)."""
        if state.name != self.name:
            raise ValueError(f"optimizer state of {state.name}, not {self.name}")
        if set(state.slots) != set(self.slots):
            raise ValueError(f"{self.name} keeps {self.slots}, got {tuple(state.slots)}")

        def shapes(arrays: Params) -> dict[str, tuple[int, ...]]:
            return {k: a.shape for k, a in arrays.items()}

        for slot, arrays in self.state.items():
            if shapes(state.slots[slot]) != shapes(arrays):
                raise ValueError(f"optimizer state {slot} has other shapes than the weights")
        for slot, arrays in self.state.items():
            copy_into(arrays, state.slots[slot])
        self.t = int(state.t)

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        """p += delta in place, with delta computed from the gradient g and the state arrays (one
        per slot, in order, updated in place)."""
        raise NotImplementedError

    def _scratch(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two work arrays shaped like p, kept between steps. Allocating the temporaries afresh
        each step is slow for large arrays: each is new memory from the OS (mmap) and page-faults
        on first touch, which cost more than the arithmetic here."""
        key = (p.shape, p.dtype)
        work = self._work.get(key)
        if work is None:
            work = self._work[key] = (np.empty_like(p), np.empty_like(p))
        return work

    def effective_lr(self, k: str, lr: float) -> np.ndarray | None:
        """The per-weight step size lr / sqrt(...) of adaptive methods; None for SGD/momentum."""
        return None


def _zeros_like(params: Params) -> FlatParams:
    return FlatParams.zeros({k: p.shape for k, p in params.items()},
                            np.result_type(*params.values()))


class SGD(Optimizer):
    """p -= lr * g"""

    name = "sgd"

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        np.multiply(-lr, g, out=delta)
        p += delta


class Momentum(Optimizer):
    """v = mu * v + g;  p -= lr * v   (heavy ball, as torch.optim.SGD with momentum)"""

    name = "momentum"
    slots = ("velocity",)
    mu = 0.9

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        (v,) = state
        v *= self.mu
        v += g
        np.multiply(-lr, v, out=delta)
        p += delta


class Adagrad(Optimizer):
    """mem += g^2;  p += -lr * g / sqrt(mem + 1e-8)   (min-char-rnn, operation for operation)"""

    name = "adagrad"
    slots = ("mem",)

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        (mem,) = state
        tmp, _ = self._scratch(p)
        np.multiply(g, g, out=tmp)
        mem += tmp
        np.multiply(-lr, g, out=delta)
        np.add(mem, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        delta /= tmp
        p += delta

    def effective_lr(self, k: str, lr: float) -> np.ndarray:
        return lr / np.sqrt(self.state["mem"][k] + self.eps)


class RMSProp(Optimizer):
    """ms = rho * ms + (1 - rho) g^2;  p -= lr * g / (sqrt(ms) + eps)"""

    name = "rmsprop"
    slots = ("ms",)
    rho = 0.99

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        (ms,) = state
        tmp, _ = self._scratch(p)
        ms *= self.rho
        np.multiply(1.0 - self.rho, g, out=tmp)
        tmp *= g
        ms += tmp
        np.sqrt(ms, out=tmp)
        tmp += self.eps
        np.multiply(-lr, g, out=delta)
        delta /= tmp
        p += delta

    def effective_lr(self, k: str, lr: float) -> np.ndarray:
        return lr / (np.sqrt(self.state["ms"][k]) + self.eps)


class Adam(Optimizer):
    """m, v: moving averages of g and g^2, bias-corrected;  p -= lr * m_hat / (sqrt(v_hat) + eps)"""

    name = "adam"
    slots = ("m", "v")
    beta1, beta2 = 0.9, 0.999

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, delta: np.ndarray, state: Arrays) -> None:
        m, v = state
        tmp, _ = self._scratch(p)
        np.multiply(1.0 - self.beta1, g, out=tmp)
        m *= self.beta1
        m += tmp
        np.multiply(1.0 - self.beta2, g, out=tmp)
        tmp *= g
        v *= self.beta2
        v += tmp
        # lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections folded into two scalars:
        # = (lr * sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)), c = 1 - beta^t.
        c1, c2 = 1.0 - self.beta1**self.t, 1.0 - self.beta2**self.t
        np.sqrt(v, out=tmp)
        tmp += self.eps * math.sqrt(c2)
        np.multiply(m, -lr * math.sqrt(c2) / c1, out=delta)
        delta /= tmp
        p += delta

    def effective_lr(self, k: str, lr: float) -> np.ndarray:
        t = max(self.t, 1)
        return lr / (np.sqrt(self.state["v"][k] / (1.0 - self.beta2**t)) + self.eps)


_CLASSES: dict[str, type[Optimizer]] = {
    c.name: c for c in (SGD, Momentum, Adagrad, RMSProp, Adam)
}


def make_optimizer(name: str, params: Params) -> Optimizer:
    try:
        return _CLASSES[name](params)
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}") from None
