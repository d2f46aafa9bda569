"""The pure core: the conversation engine, its state and the transcript replayer.

(flows, state, inbound message) -> (new state, replies, events). No Flask, Redis, Twilio or
RQ here (the import contracts in pyproject.toml fail the build otherwise); the runtime is
the one module that reads flows and catalogs from disk.
"""
