"""What every app may use: domain errors and their rendering on forms, name hygiene, the API's
query-parameter reader, sending a task when the broker may be down, a read-only admin base.

Nothing here imports another app of ours (or builds the Celery app, as importing ``config`` does),
so any app, however low, can depend on it.
"""
