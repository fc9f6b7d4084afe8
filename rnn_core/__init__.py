"""rnn_core: Karpathy's min-char-rnn in plain NumPy, batched, inspectable and checkpointable.

Modules, one concern each: corpus (text -> ids), model (the RNN's forward/backward), lstm and gru
(the gated cells, with gated: what they share), cells (the one interface of the three), optim
(clipping and optimizers), config, trainer, history, sampling, checkpoint, gradcheck, reach
(itemized gradients), train (the CLI).
Importing it changes nothing process-wide; entry points call rnn_core.tuning.tune_process().
"""

from rnn_core.config import DEFAULT_PRESET, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import BUILTINS, Corpus, CorpusError, Vocab, corpus_from_bytes, load_builtin
from rnn_core.trainer import ChunkTrace, DivergenceError, StepRecord, Trainer

__all__ = [
    "BUILTINS", "DEFAULT_PRESET", "PRESETS", "ChunkTrace", "ConfigError", "Corpus", "CorpusError",
    "DivergenceError", "StepRecord", "TrainConfig", "Trainer", "Vocab", "corpus_from_bytes",
    "load_builtin",
]
