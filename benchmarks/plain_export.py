"""The plain script the pack is measured against: JSON lines in, data.json and CSVs in a ZIP.

What one would write without the engine: records read from plain JSON-lines
files (no encryption), one data.json and one CSV per table (header = the
union of the keys, found while data.json is written; nested values as JSON),
written through `zipfile` (deflate) into an ordinary file. No hashing, no
formula neutralisation, no sealing.

    python benchmarks/plain_export.py <folder of <system>/<table>.jsonl> <out.zip>

Prints its wall time and peak resident memory as JSON.
"""

import csv
import io
import json
import resource
import sys
import time
import zipfile
from pathlib import Path


def tables(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.jsonl"))


def lines(path: Path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def write_data_json(archive: zipfile.ZipFile, folder: Path) -> dict[Path, list[str]]:
    headers = {}
    with io.TextIOWrapper(archive.open("data.json", "w"), encoding="utf-8") as out:
        out.write('{"systems": {')
        for t, path in enumerate(tables(folder)):
            out.write(f"{',' if t else ''}\n {json.dumps(path.parent.name + '/' + path.stem)}: [")
            keys: dict[str, None] = {}
            for r, record in enumerate(lines(path)):
                out.write(("," if r else "") + "\n  " + json.dumps(record, ensure_ascii=False))
                for key in record:
                    if key not in keys:
                        keys[key] = None
            out.write("\n ]")
            headers[path] = list(keys)
        out.write("\n}}\n")
    return headers


def write_csvs(archive: zipfile.ZipFile, headers: dict[Path, list[str]]) -> None:
    for path, header in headers.items():
        name = f"{path.parent.name}/{path.stem}.csv"
        with io.TextIOWrapper(archive.open(name, "w"), encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for record in lines(path):
                writer.writerow(
                    [
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        for value in (record.get(key) for key in header)
                    ]
                )


def main(folder: str, out: str) -> None:
    started = time.perf_counter()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_csvs(archive, write_data_json(archive, Path(folder)))
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kb": peak_kb, "size": Path(out).stat().st_size}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
