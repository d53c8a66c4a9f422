"""The few words every app may speak: domain errors and their rendering on forms.

Nothing here imports another app of ours (or builds the Celery app, as importing ``config`` does),
so any app, however low, can depend on it.
"""
