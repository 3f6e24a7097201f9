"""Tools for working on the service: the import-cycle check and the harness that starts and drives it."""
