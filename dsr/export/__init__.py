"""The answer pack: what every system returned, as one ZIP the person can read and load.

`pack.build_pack` writes it streaming from the stored results (`dsr.results`)
into a sealed file beside them (`RESULTS_DIR/<ref>/pack/answer.zip.sealed`),
so memory stays flat however many records there are; `reading.open_pack`
gives it back decrypted, chunk by chunk. What goes in is `selection`'s
(every succeeded task's tables, less what a handler left out); the files are
`data_json`'s, `csv_table`'s, `readme`'s and `manifest`'s.
"""
