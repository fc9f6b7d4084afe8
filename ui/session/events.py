"""The event log: what happened to the model while it trained (a live change of settings, a
divergence, a rewind), so that the charts can mark it where it happened. One per session, kept by
the worker with the session's lock held; bounded.

A new model (Reset, a new text, a loaded checkpoint) starts the log again with one event at its
first step: the charts show the new model's history, and that event says where it came from.
Going back to an earlier step (a rewind, or a divergence going back by itself) forgets the events
of the steps undone, as the step history does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

EVENT_KINDS = ("setting", "divergence", "rewind", "reset", "corpus", "load")
NEW_MODEL_KINDS = ("reset", "corpus", "load")
EVENTS_CAP = 40  # the newest are kept: a chart with more rules than this is unreadable anyway


@dataclass(frozen=True)
class Event:
    step: int    # the step it happened at (for a divergence or a rewind: the step gone back to)
    kind: str    # one of EVENT_KINDS
    label: str   # a few words for the chart ("lr 0.002 → 0.05")


class EventLog:
    def __init__(self) -> None:
        self._events: deque[Event] = deque(maxlen=EVENTS_CAP)

    def __len__(self) -> int:
        return len(self._events)

    def items(self) -> list[Event]:
        """Oldest first."""
        return list(self._events)

    def add(self, step: int, kind: str, label: str) -> None:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; one of {', '.join(EVENT_KINDS)}")
        self._events.append(Event(step, kind, label))

    def new_model(self, step: int, kind: str, label: str) -> None:
        """A new model: the log starts again with this event (kind one of NEW_MODEL_KINDS)."""
        if kind not in NEW_MODEL_KINDS:
            raise ValueError(f"{kind!r} does not start a new model")
        self._events.clear()
        self.add(step, kind, label)

    def cut_back(self, step: int) -> None:
        """Forget the events after `step` (training went back to it)."""
        kept = [e for e in self._events if e.step <= step]
        self._events.clear()
        self._events.extend(kept)
