"""rnn_core: Karpathy's min-char-rnn in plain NumPy, batched, inspectable and checkpointable.

Modules, one concern each: corpus (text -> ids), model (forward/backward), optim (clipping and
optimizers), config, trainer, history, sampling, checkpoint, gradcheck, train (the CLI).
"""

# First, before NumPy loads: the BLAS thread count (_threads) and glibc's malloc settings (_malloc).
import rnn_core._malloc
import rnn_core._threads  # noqa: F401
from rnn_core.config import DEFAULT_PRESET, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import BUILTINS, Corpus, CorpusError, Vocab, corpus_from_bytes, load_builtin
from rnn_core.trainer import ChunkTrace, DivergenceError, StepRecord, Trainer

__all__ = [
    "BUILTINS", "DEFAULT_PRESET", "PRESETS", "ChunkTrace", "ConfigError", "Corpus", "CorpusError",
    "DivergenceError", "StepRecord", "TrainConfig", "Trainer", "Vocab", "corpus_from_bytes",
    "load_builtin",
]
