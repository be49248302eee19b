"""The civil-affairs side on a Dask cluster (`bidui run --engine dask`): read, normalised and
validated in chunks on the workers (`on_dask`). The local engine reads it whole
(`pipeline.ingest.load_source`, `pipeline.normalise.normalise_source`); both give the same
frames, quarantine, field issues and validation results."""
