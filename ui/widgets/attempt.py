"""A button's action that may be refused: what the user gave is wrong (ValueError, which
CorpusError and ConfigError are) or the app has a bug. Either way the current model is kept and the
sidebar says why once (state.notice); a bug is logged, not shown."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ui.state import AppState

log = logging.getLogger(__name__)


def attempt(state: AppState, action: Callable[[], object], refused: str, failed: str = "") -> bool:
    """Run `action`; True if it went through. `refused` starts the notice ("Could not switch to
    this text"; empty: the input's own message alone), `failed` the one for a bug (else `refused`)."""
    try:
        action()
    except ValueError as exc:
        state.notice = f"{refused}: {exc}" if refused else str(exc)
        return False
    except Exception:  # a bug, not the user's input: log it, keep the current model
        failed = failed or refused
        log.exception("%s", failed)
        state.notice = f"{failed} (an internal error; the details are in the server log)."
        return False
    return True
