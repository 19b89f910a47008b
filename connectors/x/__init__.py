"""The X (Twitter) channel: webhook signatures, X payload parsing and DM rendering.

Pure modules only so far: ``signatures`` (CRC answer, webhook signature check), ``payloads``
(the one module that knows X's webhook and v2 formats) and ``render`` (text for X DMs and the
public invitation). The Rasa input channel comes later.
"""
