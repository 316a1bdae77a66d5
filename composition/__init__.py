"""The composition: assembles the root config from each capability's section, builds the
runtime and the web app, and wires the scheduler and the pipeline.

It sits above every capability and nothing below imports it: only ``app.py``,
``wsgi.py``, ``bench/`` and ``scripts/`` (and the tests) do. See
docs/architecture.md for the rule of which package may import which.
"""
