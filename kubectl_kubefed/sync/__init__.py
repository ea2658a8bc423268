"""Controllers written once against the ClusterClient protocol (propagation, status, health)."""
