"""Processing: stored uploads through the rules engine into findings.

``inputs`` reads what the rules need from the store (the registry as
``PointContext``s, committed uploads in arrival order); ``worker`` runs the
engine over them, streaming (``Processor``, following the archive) or over
stored history (``replay``), and stores the findings.
"""
