"""ChatOps: the Slack slash command at POST /slack/commands and the button clicks at
POST /slack/interactions, on the same HTTP API without IAM auth.

route.py runs a request through the other modules: signature.py (is it Slack's?), command.py (what
does the text ask?), authorise.py (may this user, channel and team ask it?), then answers within
Slack's 3 seconds, handing slow work over (deferral.py) to an asynchronous invocation; work.py does
each command's work wherever it runs, confirm.py asks before a big stop, and messages.py says what
the person sees.
"""
