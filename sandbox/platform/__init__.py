"""The platform's service processes: API, front end, streaming engine and monitoring."""
