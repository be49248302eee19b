"""Ingest: read the exchange files (CSV in UTF-8/GB18030, XLSX/XLSM, XLS, ODS, Parquet file or
folder) into frames of SPEC §1 fields: every data sheet, below title rows and one- or two-row
headers, with footers and template rows counted apart as non-data rows. `load_source` reads a
source whole; `iter_source_chunks` streams the same rows in chunks (a roster of millions)."""

from pipeline.ingest.load import FileInfo, Loaded, SheetInfo, load_file, load_source
from pipeline.ingest.stream import SourceStream, iter_source_chunks

__all__ = ["FileInfo", "Loaded", "SheetInfo", "SourceStream", "iter_source_chunks", "load_file",
           "load_source"]
