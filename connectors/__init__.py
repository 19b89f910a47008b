"""Rasa input/output channels: the web chat (webchat.py) and X (x/)."""
