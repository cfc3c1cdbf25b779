"""The project's own checks, run by `make lint` and CI (.ci/run)."""
