"""What the pages show, computed without Streamlit: plain dataclasses and tables that the figure
builders (ui/figures/) draw and the pages lay out.

A `read_*` function takes the Trainer and is meant to run inside `TrainingSession.read`, so it only
copies (bounded slices of) arrays; the math that turns them into views runs outside the lock.
One module per view: `train` (the Train page's metrics), `corpus` (the Data page), `chunk` (the
last training chunk), `hidden`, `text_grid`, `softmax`, `grad_flow`, `own_text`, `weights`,
`gradcheck` (the Inspect page's tabs), `sample` (the Sample page), `setup` (what a link carries:
the text, the preset and the settings, read back from any query string), `lessons` (one-click
setups, as data) and `explain` (the explanations beside the Train charts, with the running
model's numbers)."""
