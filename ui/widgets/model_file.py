"""Save / load model (sidebar): the current model as a checkpoint download, and an upload that
resumes from one.

The download carries weights, optimizer state and the position in the text (rnn_core.checkpoint),
generated when clicked, so it is always the current step and costs nothing per rerun. An upload
stays in memory (never written to or read from disk) and is refused, with the current model left
as it was, unless it is a checkpoint for this text's vocabulary that fits this server.
"""

from __future__ import annotations

import logging
from functools import partial

import streamlit as st

from rnn_core import checkpoint
from rnn_core.checkpoint import CheckpointError
from rnn_core.config import ConfigError
from ui.session.limits import check_config
from ui.session.worker import TrainingSession
from ui.state import AppState, set_widget_values
from ui.text import escape_markdown
from ui.views.setup import SETTING_KEYS

log = logging.getLogger(__name__)


def upload_limit_mb() -> int:
    """The checkpoint upload limit: the server refuses any upload over server.maxUploadSize
    whatever a widget says, and checkpoint.from_bytes anything over MAX_CHECKPOINT_BYTES."""
    server_mb = int(st.get_option("server.maxUploadSize"))
    return max(1, min(server_mb, checkpoint.MAX_CHECKPOINT_BYTES // 2**20))


def checkpoint_bytes(session: TrainingSession) -> bytes:
    """The session's model as .npz bytes, taken under the lock: one whole step, never half."""
    return session.read(checkpoint.to_bytes)


def load_checkpoint(state: AppState, raw: bytes) -> checkpoint.Restored:
    """Resume from checkpoint bytes on the current text, as far as the file allows.

    Raises CheckpointError or ConfigError (messages meant for the user) before anything changes:
    the running model is only replaced by a fully restored one, and training is paused first.
    """
    limit = upload_limit_mb()
    if len(raw) > limit * 2**20:  # the browser enforces it too, but a script can bypass it
        raise CheckpointError(f"The file is {len(raw) / 2**20:.1f} MB; the limit is {limit} MB.")
    ckpt = checkpoint.from_bytes(raw)
    # Before restore() allocates: the file's settings may be valid yet too big for this server.
    check_config(ckpt.config, len(ckpt.vocab))
    restored = checkpoint.restore(ckpt, state.corpus)
    trainer = restored.trainer
    state.session.install(trainer, "load", f"model loaded at step {trainer.step_count:,}")
    state.draft = trainer.config  # the Train page shows (and a Reset rebuilds) the loaded settings
    set_widget_values(**{k: getattr(trainer.config, k) for k in SETTING_KEYS})
    return restored


def loaded_message(restored: checkpoint.Restored) -> str:
    """What a load did, and what it could not resume (the file lacked it)."""
    config = restored.trainer.config
    model = f"hidden {config.hidden}, {config.optimizer}"
    if config.cell != "rnn":  # an LSTM or GRU (trained with the CLI's --cell)
        model = f"{config.cell.upper()}, {model}"
    if restored.optimizer_resumed and restored.position_resumed:
        return (f"Loaded a model at step {restored.trainer.step_count:,} ({model}). Press Play to "
                "continue training it.")
    if restored.optimizer_resumed:
        missing = ("not its place in the text (the file has none for this text and number of "
                   "streams)")
    else:
        missing = (f"not its optimizer state (the file has none: {config.optimizer} starts afresh) "
                   "nor its place in the text")
    return (f"Loaded the weights and settings of a model ({model}), but {missing}, so training "
            "starts again at step 0 from the beginning of the text. Press Play to train it.")


def _load_upload(state: AppState, raw: bytes) -> tuple[str, str]:
    """("resumed" | "partly" | "refused", what to tell the user)."""
    try:
        restored = load_checkpoint(state, raw)
    except (CheckpointError, ConfigError) as exc:
        # The message may quote the file (its vocabulary, its settings): show it as plain text.
        return "refused", (f"This model was not loaded: {escape_markdown(str(exc), 600)} "
                           "The current model is unchanged.")
    except MemoryError:
        return "refused", "This model is too large for this server. The current model is unchanged."
    except Exception:  # a bug, not the user's file: log it, say so, keep the session alive
        log.exception("loading an uploaded checkpoint failed")
        return "refused", ("This file could not be read as a model checkpoint. "
                           "The current model is unchanged.")
    exact = restored.optimizer_resumed and restored.position_resumed
    return "resumed" if exact else "partly", loaded_message(restored)


def model_file_panel(state: AppState) -> None:
    """Download and upload widgets, keyed model_download and model_upload."""
    st.download_button(
        "Download model (.npz)", data=partial(checkpoint_bytes, state.session),
        file_name="unrolled-model.npz", mime="application/octet-stream", key="model_download",
        on_click="ignore", icon=":material/download:", width="stretch",
        help="Weights, optimizer state and position in the text, at the current step. Load it "
             "later (on the same text) to continue exactly where it stopped.")
    limit = upload_limit_mb()
    upload = st.file_uploader(
        f"Load a model (.npz, at most {limit} MB)", type=["npz"], key="model_upload",
        max_upload_size=limit,
        help="A model downloaded from Unrolled, for the text in use. It replaces the current "
             "model (training pauses). The file stays in memory and is never saved.")
    if upload is None:
        state.model_file = None
    elif state.model_file is None or state.model_file[0] != upload.file_id:
        outcome, message = _load_upload(state, upload.getvalue())  # once per uploaded file
        state.model_file = (upload.file_id, outcome, message, state.session.model_serial)
        if outcome != "refused":
            st.rerun()  # redraw the status and every page with the loaded model
    # What the upload did, while the session still runs the model it left: after a Reset or a new
    # text, "Loaded a model at step ..." (or "The current model is unchanged") is no longer true.
    if state.model_file is not None and state.model_file[3] == state.session.model_serial:
        _, outcome, message, _ = state.model_file
        if outcome == "resumed":
            st.success(message, icon=":material/check_circle:")
        elif outcome == "partly":
            st.warning(message, icon=":material/warning:")
        else:
            st.error(message, icon=":material/block:")
