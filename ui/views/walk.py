"""Where the Unrolled page's walk through one training step stands: the phase, the time step, and
whether it plays by itself. Plain state and its moves, no Streamlit and no trainer:
ui/widgets/unrolled.py drives it and takes the step through the session.

The time step means what the phase makes of it: in the forward pass how far it has got (t = 0 …
T-1, the columns fill in), in the backward pass how far the gradient has flowed back (T-1 … 0),
elsewhere which time step the equations show.
"""

from __future__ import annotations

from dataclasses import dataclass

from ui.views.unrolled import (
    BACKWARD,
    CHUNK,
    FORWARD,
    SOFTMAX,
    STEP,
    UPDATE,
    PreviewKey,
    StepCheck,
    UnrolledView,
)

TICK_S = 0.4      # seconds per beat while the iteration plays: one time step, or part of a dwell
DWELL_TICKS = 5   # beats spent on a phase without time steps (the chunk, clipping, the update)
TIME_PHASES = (FORWARD, SOFTMAX, BACKWARD)  # the phases play walks through t


def entry_t(phase: int, t: int, steps: int, forward: bool) -> int:
    """The time step on arriving at `phase` (forward: from the phase before it): the forward pass
    starts at t = 0 and the backward pass at T-1, and arriving backwards shows them finished."""
    if phase == FORWARD:
        return 0 if forward else steps - 1
    if phase == SOFTMAX and forward:
        return 0
    if phase == BACKWARD:
        return steps - 1 if forward else 0
    return min(max(t, 0), steps - 1)


@dataclass(frozen=True)
class TakenStep:
    view: UnrolledView   # the step as the walk showed it (the stream shown then)
    check: StepCheck     # the trainer's weights against the ones shown
    message: str | None  # the session's word when the trainer did not take it (a divergence)


@dataclass
class Walk:
    key: PreviewKey | None = None        # the trainer's next step whose phases are shown
    phase: int = CHUNK
    t: int = 0
    playing: bool = False
    dwell: int = 0                       # beats spent on the current phase while playing
    taken: TakenStep | None = None       # at STEP: the step taken and its check
    started_over: bool = False           # the trainer changed under the walk (say so once)
    redraw: bool = False                 # the whole app must run again (the sidebar's step count)
    stopped_at: float = -1e9             # time.monotonic() of the last stop
    _view: tuple[PreviewKey, int, UnrolledView] | None = None  # the last view computed, by stream

    def follow(self, key: PreviewKey, steps: int) -> None:
        """Stay on the trainer's next step. When the trainer changed under the walk (training
        played, the sidebar's Step, new settings, Reset, a loaded model), start over at its new next
        step; after the step is taken, stay on it until the user moves on."""
        self.t = min(self.t, steps - 1)
        if self.key == key or (self.phase == STEP and self.taken is not None):
            return
        if self.key is not None:
            self.started_over = self.phase != CHUNK  # (at the chunk nothing shown is lost)
            self.phase, self.t, self.dwell, self.playing = CHUNK, 0, 0, False
        self.key, self.taken = key, None

    def view(self, key: PreviewKey, stream: int) -> UnrolledView | None:
        """The view of this step and stream if it was computed already (the numbers of a step do
        not change until the key does)."""
        if self._view is not None and self._view[:2] == (key, stream):
            return self._view[2]
        return None

    def keep(self, key: PreviewKey, stream: int, view: UnrolledView) -> None:
        self._view = (key, stream, view)

    def took(self, taken: TakenStep) -> None:
        """The step was taken (or refused by the trainer): show it, stop playing."""
        self.taken, self.phase, self.dwell, self.playing, self.redraw = taken, STEP, 0, False, True

    def next_walk(self, phase: int, steps: int) -> None:
        """Leave the step taken for the trainer's next step, at `phase` (follow() adopts the key)."""
        self.key, self.taken, self.phase, self.t, self.dwell = None, None, CHUNK, 0, 0
        if phase != CHUNK:
            self.go(phase, steps)

    def go(self, phase: int, steps: int) -> None:
        """To `phase` (not STEP: that is taking the step), with its entry time step."""
        if not CHUNK <= phase < STEP:
            raise ValueError(f"go() moves between phases {CHUNK} and {STEP - 1}, not {phase}")
        self.t = entry_t(phase, self.t, steps, forward=phase > self.phase)
        self.phase, self.dwell = phase, 0

    def tick(self, steps: int) -> bool:
        """One beat of "play the iteration": the next time step, or after a dwell the next phase.
        True when the next move is taking the step (the caller takes it)."""
        p, t = self.phase, self.t
        if p in (FORWARD, SOFTMAX) and t < steps - 1:
            self.t += 1
        elif p == BACKWARD and t > 0:
            self.t -= 1
        elif p not in TIME_PHASES and self.dwell + 1 < DWELL_TICKS:
            self.dwell += 1
        elif p == UPDATE:
            return True
        elif p < UPDATE:
            self.go(p + 1, steps)
        return False
