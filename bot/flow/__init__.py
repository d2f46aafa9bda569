"""Flow definitions: YAML in, immutable validated objects out."""

from bot.flow.loader import load_flows, read_flows
from bot.flow.model import FlowSet
from bot.flow.problems import FlowError, Problem

__all__ = ["FlowError", "FlowSet", "Problem", "load_flows", "read_flows"]
