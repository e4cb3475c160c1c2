"""Interactive lesson widgets (ipywidgets), each in its own module, none importing another.

Every widget shows its default result as soon as it is displayed, so a headless run (nbclient,
nbgrader) needs no click; tests drive each one by setting its controls and reading its output.

- `partition_explorer`: lesson 02, where each key lands for a chosen partition count and which
  keys move when the count changes (`explore(course, keys=[...], partitions=3)`).
- `tuning_knobs`: producer tuning settings and their effect.
- `lag_controls`: consumer lag under adjustable load.

Import the module you need (`from autograder.demos.widgets.partition_explorer import explore`):
this package imports nothing itself.
"""
