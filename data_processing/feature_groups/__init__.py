"""Feature group definitions: ``<name>.yaml`` (metadata, validated by ``data_processing.registry``) next to
the ``code`` file it names (a ``compute(source, as_of=None)`` PySpark function). Adding a group = adding both files.
"""
