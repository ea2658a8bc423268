"""KubeFed's semantics as pure functions: no I/O, no Kubernetes client."""
