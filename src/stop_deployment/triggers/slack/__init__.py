"""ChatOps: the Slack slash command at POST /slack/commands, on the same HTTP API without IAM auth.

route.py runs a request through the other modules in order: signature.py (is it Slack's?),
command.py (what does the text ask?), authorise.py (may this user, channel and team ask it?), the
service, then messages.py (what the person sees).
"""
