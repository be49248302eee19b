"""The union membership roster, streamed: its cost in memory does not grow with its size.

The roster answers one question per night: which members belong to assisted households. So it
is never held whole (SPEC §1.3; a province's roster has 10–30 million rows):

    first_pass.py   chunk by chunk: read (`pipeline.ingest.stream`), normalise, validate
                    (the roster suite per chunk, merged), features, the linkage's first pass
                    (`pipeline.link.streamed`: sample, term frequencies, block sizes), and
                    spill the records that could pair to a private temporary folder
    spill.py        that folder: one Parquet file per chunk
    second_pass.py  train on the sample, score the spilled chunks, assign: member links

The civil-affairs side (left) stays in memory; the roster's quarantined rows and field issues
are kept (they are few and are published), its usable rows only as counts.
"""
