"""Text as SMS sees it: segments, splitting, grouping, matching answers, durations.

The bottom layer: plain functions of strings, no I/O, and it imports nothing else of bot.
"""
