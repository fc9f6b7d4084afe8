"""Helpers for the Inspect and Sample page tests: read plotly specs back from AppTest."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest


def plotly_array(value: object) -> np.ndarray:
    """A trace attribute as sent to the browser: plotly >= 6 encodes numpy arrays as
    {"dtype", "bdata" (base64), "shape"}; plain lists stay lists."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = tuple(int(n) for n in str(value.get("shape", len(flat))).split(","))
        return flat.reshape(shape)
    return np.asarray(value)


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly specs on the page by chart key (a keyed element's id ends with its key)."""
    return {el.proto.id.rsplit("-", 1)[-1]: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def z_shape(spec: dict) -> tuple[int, ...]:
    return plotly_array(spec["data"][0]["z"]).shape
