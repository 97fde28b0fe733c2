"""Sending an issue: the editor's workflow, the worker's claim/send/record loop, the sweep, the tasks.

workflow      can_send, start_send, schedule, pause, resume, retry, progress, test sends
worker        freeze the audience, send a batch, record each result, decide the next step
lease         a batch's claim on its rows: the token every write checks, renewal
sweep         beat: due schedules, stalled sends, finished sends
queue         queueing the tasks after commit
tasks         the Celery tasks (stable names)
housekeeping  pruning old delivery rows into per-issue totals

Messages and transports are newsletter.mail's; sending decides who gets what, and when.
"""
