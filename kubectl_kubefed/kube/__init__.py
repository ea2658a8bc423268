"""The real backend: the ClusterClient protocol over the ``kubernetes`` package.

This is the only package that imports ``kubernetes``; offline commands never load it.
"""
