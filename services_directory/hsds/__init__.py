"""Open Referral HSDS 3.0 import and export of the services directory.

- ``mapping``: a directory row as an HSDS record (``service_to_hsds`` and the others), the
  ``continuum`` extension, and the querysets that read whole records in a fixed number of
  queries (the export and ``GET /api/v1/hsds/`` use them).
- ``exporter``: ``hsds_export``, the directory written as deterministic JSON files.
- ``reading``: ``hsds_read``, the records found in one JSON file or a folder of them.
- ``validation``: an HSDS value checked and turned into a model value, or a ``RecordError``.
- ``importer``: ``hsds_import``, the upsert by HSDS id, and its rules.
"""
