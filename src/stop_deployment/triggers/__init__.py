"""One module per way in: parse and validate the event, call the service, shape the reply."""
