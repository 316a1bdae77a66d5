"""The claims report: what each promise delivered over a period, with the evidence.

``build.build()`` measures a pure :class:`~report.model.Report` from the store
and the alert history; ``html`` and ``markdown`` render it; ``cli`` is
``python app.py report``; ``views`` serves ``GET /report``.
"""
