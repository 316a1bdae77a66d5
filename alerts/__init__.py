"""Alerting: rules, evaluation, the durable state machine, silences, acks, maintenance.

``alerts.engine.AlertEngine`` runs one evaluation cycle; ``composition.alerting``
attaches it (and NOTIFY's notifier, ``alerts.notify``) to a running Lookout.
"""
