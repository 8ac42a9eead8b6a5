"""Test tooling shared by every app's tests: real races and a real browser."""
