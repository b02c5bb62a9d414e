"""Open Referral HSDS 3.0: the directory as HSDS records, their import and export.

- ``taxonomy``: the published Continuum taxonomy whose terms carry Continuum's fields as HSDS
  ``attributes``, and the table mapping other taxonomies' terms to a stage.
- ``mapping``: a directory row as an HSDS record (``service_to_hsds`` and the others) and the
  querysets that read whole records in a fixed number of queries.
- ``selectors``: the reads of the HSDS API (``/api/v1/hsds/``, ``services_directory.api.hsds``).
- ``exporter``: ``hsds_export``, the directory written as deterministic JSON files.
- ``reading``: ``hsds_read``, the records found in one JSON file or a folder of them.
- ``validation``: an HSDS value checked and turned into a model value, or a ``RecordError``.
- ``importer``: ``hsds_import``, the upsert by HSDS id, and its rules.
"""
