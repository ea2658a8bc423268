"""Names of KubeFed's API: groups, kinds, labels, annotations, status codes.

Everything here is a fact of the wire format that existing KubeFed users rely on;
changing a string here breaks compatibility with clusters that ran KubeFed.
"""
