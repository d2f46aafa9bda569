"""The return information line: an SMS and WhatsApp information service about AVRR in Belgium."""

__version__ = "0.1.0"
