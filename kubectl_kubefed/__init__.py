"""kubectl-kubefed: a maintained KubeFed on KubeFed's own API."""

__version__ = "0.1.0"
