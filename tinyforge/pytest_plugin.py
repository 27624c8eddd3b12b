"""pytest plugin (entry point `pytest11`): fixtures for firmware tests. See the README."""
