"""The shop's promises as service-level objectives.

``config`` defines them (shipped defaults, overridable by id), ``sli`` reads a
window's good and bad share from the store, ``burn`` turns readings into error
budgets and burn-rate verdicts, ``evaluate`` makes the one Status that the
promise's alert, its card, ``/api/promises`` and the report all show.
"""
