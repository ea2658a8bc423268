"""Errors that reach users as one line: bad input (exit code 2), a failing cluster (1)."""


class InputError(Exception):
    """Bad input: a file, a document, a flag. The message is the whole user-facing line."""


class ClusterError(Exception):
    """A cluster failed or could not be reached (exit code 1). The message is the whole line."""
