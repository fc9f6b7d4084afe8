"""Figure builders: pure functions from the views (ui/views/) to chart specs, no Streamlit.
`train` (the Train page's live Vega-Lite specs), `corpus` (the Data page's frequencies),
`inspect` and `sample` (plotly heatmaps and bars), `axes` (what those plotly figures share: the
character axis, titles, fonts and colour scales), `style` (type sizes and line widths: normal and
presentation mode's)."""
