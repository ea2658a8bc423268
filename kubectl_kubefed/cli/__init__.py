"""The ``kubectl kubefed`` command line: one module per verb."""
