"""The Flask service: the app factory, Twilio webhooks, events, simulator page, redaction."""
