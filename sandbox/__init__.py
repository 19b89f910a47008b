"""Local emulators of third-party services, for tests and demos.

Everything here listens on 127.0.0.1 only and never reaches the internet.
"""
