"""Ingest: read the exchange files (CSV in UTF-8/GB18030, XLSX/XLSM, XLS, ODS, Parquet file or
folder) into frames of SPEC §1 fields: every data sheet, below title rows and one- or two-row
headers, with footers and template rows counted apart as non-data rows."""

from pipeline.ingest.load import FileInfo, Loaded, SheetInfo, load_file, load_source

__all__ = ["FileInfo", "Loaded", "SheetInfo", "load_file", "load_source"]
