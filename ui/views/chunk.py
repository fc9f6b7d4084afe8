"""The last training chunk of one stream, as the Inspect views read it (under the session's lock).
ChunkTrace, Trainer and Vocab are re-exported for the pages, which import from ui only."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_core.corpus import Vocab
from rnn_core.trace import ChunkTrace
from rnn_core.trainer import Trainer

__all__ = ["ChunkSnapshot", "ChunkTrace", "Trainer", "Vocab", "read_chunk"]


@dataclass(frozen=True)
class ChunkSnapshot:
    trace: ChunkTrace
    vocab: Vocab
    streams: int


def read_chunk(trainer: Trainer, stream: int = 0) -> ChunkSnapshot | None:
    """The last training chunk of one stream (None before the first step); run under the lock."""
    stream = min(max(stream, 0), trainer.streams - 1)
    trace = trainer.chunk_trace(stream)
    return None if trace is None else ChunkSnapshot(trace, trainer.corpus.vocab, trainer.streams)
