"""The editor's workflow beside the admin: review and send, checks, next week's issue, the inbox.

review         the Review and send page (previews, pre-send check, test send, approve, schedule, send)
presend        the pre-send check: every finding with its section
linkcheck      checking an issue's links (a Celery task)
weekly         "Start next week's issue" from the last one
contributions  the inbox: accept a suggestion into the draft, or decline it (the public form: archive.contribute)
dashboard      the admin home page's figures
tasks          the Celery tasks (stable names)
"""
