"""How a turn's replies become SMS or WhatsApp messages: rendering, templates, costs.

Pure: given replies and sizes, the texts and messages to send; sending is bot.jobs'.
"""
