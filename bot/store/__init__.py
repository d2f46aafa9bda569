"""Everything kept in Redis: the conversation store, its keys, preferences, limits.

Pseudonyms name every key; every key is built in bot.store.keys and has a TTL. The few
places that need redis-py's wire level (packing commands, per-thread connections) are in
bot.store.wire and nowhere else.
"""
