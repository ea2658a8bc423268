"""An in-memory multi-cluster fleet implementing the ClusterClient protocol."""
