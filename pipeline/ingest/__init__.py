"""Ingest: read the exchange files (CSV in UTF-8/GB18030, XLSX) into frames of SPEC §1 fields."""

from pipeline.ingest.load import FileInfo, Loaded, load_file, load_source

__all__ = ["FileInfo", "Loaded", "load_file", "load_source"]
