"""How fast the engine builds an answer pack, next to a plain script writing the same records.

One access request whose three systems returned `--records` records in all
(four tables, 200 to 450 bytes a record, multi-line unicode text, phone
numbers a spreadsheet would take for formulas) is stored through
`dsr.results.writer` (sealed, as the workers store them), then built into its
pack by `dsr.export.pack.build_pack` in a process of its own. The same
records, as plain JSON-lines files, go through `plain_export.py`: data.json
and a CSV per table in a `zipfile`, no encryption, no hashing, no
neutralisation. Each side runs in its own child process, one after the
other; the table gives its wall time, records per second and peak resident
memory (the child's `ru_maxrss`, Flask app included for the engine).
Targets: engine peak memory under 200 MB, engine speed at least 50% of the
plain script's. Exit status 1 on FAIL.

    .venv/bin/python benchmarks/export.py [--records 1000000] [--json]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
MAX_PEAK_MB = 200.0
MIN_RATIO = 0.50
#: each table's share of the records
TABLES = (
    ("crm", "contacts", 0.1),
    ("crm", "tickets", 0.3),
    ("billing", "invoices", 0.3),
    ("sms", "messages", 0.3),
)
#: the demo systems' environment, which the demo instance names (never called here)
DEMO_ENV = {
    "DSR_CRM_SECRET": "bench-crm",
    "DSR_SMS_SECRET": "bench-sms",
    "DSR_CRM_URL": "http://127.0.0.1:8701/dsr",
    "DSR_SMS_URL": "http://127.0.0.1:8702/dsr",
    "DSR_BILLING_URL": "sqlite:///:memory:",
}


# -- the records --------------------------------------------------------------------------------


def record(table: str, n: int) -> dict:
    """A realistic record of `table`, the same for the same `n`."""
    day = f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
    if table == "contacts":
        return {
            "customer_id": f"C-{n:07d}",
            "email": "camille.durand@example.org",
            "first_name": "Camille",
            "last_name": "Durand",
            "phone": "+33 6 12 34 56 78",
            "address": {
                "street": f"{n % 200 + 1} rue de la République",
                "postcode": "69002",
                "city": "Lyon",
            },
            "language": "fr",
            "created_at": f"{day}T10:15:00Z",
            "status": "active",
            "marketing_consent": n % 3 == 0,
        }
    if table == "tickets":
        return {
            "ticket_id": n,
            "opened_at": f"{day}T08:{n % 60:02d}:00Z",
            "channel": "email",
            "subject": f"Problème de facturation – trajet n° {n}",
            "body": "Bonjour,\nJ'ai été débité deux fois pour le trajet du 3 mars, "
            '"Part-Dieu → Bellecour".\nMerci de vérifier — Camille 🚲',
            "agent": "Élodie Marchand",
            "status": "closed",
            "satisfaction": n % 5 + 1,
        }
    if table == "invoices":
        amount = round(n % 9000 / 100 + 1.5, 2)
        return {
            "invoice": f"F-2025-{n:07d}",
            "date": day,
            "amount_eur": amount,
            "vat_eur": round(amount / 6, 2),
            "card": {"type": "visa", "last4": "4242", "expiry": "12/27"},
            "ride": {"from": "Part-Dieu", "to": "Bellecour", "km": 3.2, "minutes": n % 40 + 3},
            "paid": True,
        }
    return {
        "message_id": f"sms-{n:08d}",
        "sent_at": f"{day}T18:{n % 60:02d}:00Z",
        "to": "+33612345678",
        "direction": "outbound",
        "text": f"Votre code de déverrouillage est {n % 10000:04d}. Bon trajet !",
        "status": "delivered",
        "segments": 1,
    }


def counts(total: int) -> list[tuple[str, str, int]]:
    """How many records each table gets: `total` in all."""
    shares = [(system, table, int(total * share)) for system, table, share in TABLES]
    system, table, n = shares[-1]
    shares[-1] = (system, table, n + total - sum(n for _s, _t, n in shares))
    return shares


# -- the children --------------------------------------------------------------------------------


def make_app(workdir: Path):
    from dsr import create_app

    return create_app(
        {
            "DSR_ENV": "development",
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'dsr.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",  # never used: nothing is queued
            "RESULTS_DIR": str(workdir / "results"),
            "DSR_DATA_KEY": os.environ["DSR_DATA_KEY"],
        }
    )


def write_phase(workdir: Path, total: int) -> dict:
    """Store the records as the workers do (sealed) and as plain JSON lines."""
    from flask_migrate import upgrade

    from dsr import results
    from dsr.extensions import db
    from dsr.models import Task, TaskStatus
    from dsr.operations import create_request

    app = make_app(workdir)
    with app.app_context():
        upgrade()
        request = create_request(
            {
                "type": "access",
                "email": "camille.durand@example.org",
                "name": "Camille Durand",
                "identifiers": {},
                "details": {},
                "language": "fr",
            }
        )
        for system in dict.fromkeys(system for system, _t, _n in TABLES):
            request.tasks.append(Task(connector=system, action="access"))
        db.session.commit()
        shares = counts(total)
        for task in request.tasks:
            with results.writer(task) as sink:
                for system, table, n in shares:
                    if system == task.connector:
                        write_table(sink, workdir / "plain" / system, table, n)
                task.record_counts = sink.commit()
            task.status = TaskStatus.SUCCEEDED
        db.session.commit()
        return {"ref": request.ref}


def write_table(sink, folder: Path, table: str, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{table}.jsonl", "w", encoding="utf-8") as plain:
        for i in range(n):
            item = record(table, i)
            sink.write(table, item)
            plain.write(json.dumps(item, ensure_ascii=False) + "\n")


def build_phase(workdir: Path, ref: str) -> dict:
    """Build the request's pack; only the build is timed."""
    from dsr.export.pack import build_pack
    from dsr.extensions import db
    from dsr.models import DataRequest

    app = make_app(workdir)
    with app.app_context():
        request = db.session.query(DataRequest).filter_by(ref=ref).one()
        started = time.perf_counter()
        info = build_pack(request)
        db.session.commit()
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_kb": peak_kb, "size": info.size, "records": info.records}


def child(phase: str, workdir: Path, *args) -> dict:
    """Run one phase in a process of its own; its JSON answer."""
    command = [sys.executable, str(Path(__file__)), "--phase", phase, "--workdir", str(workdir)]
    if phase == "plain":
        command = [sys.executable, str(BENCHMARKS / "plain_export.py"), *map(str, args)]
    done = subprocess.run(
        command + ([] if phase == "plain" else list(map(str, args))),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {phase} phase failed:\n{done.stdout}{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- measuring and reporting ---------------------------------------------------------------------


@dataclass
class Result:
    """One side's figures."""

    target: str
    records: int
    seconds: float
    records_per_second: float
    peak_mb: float
    zip_mb: float


def result(target: str, records: int, figures: dict) -> Result:
    mb = 1024 * 1024
    return Result(
        target,
        records,
        figures["seconds"],
        records / figures["seconds"],
        figures["peak_kb"] / 1024,
        figures["size"] / mb,
    )


def benchmark(total: int) -> tuple[list[Result], dict]:
    with tempfile.TemporaryDirectory(prefix="dsr-bench-export-") as name:
        workdir = Path(name)
        os.environ.update(DEMO_ENV, DSR_DATA_KEY=os.urandom(32).hex())
        ref = child("write", workdir, "--records", total)["ref"]
        engine = result("engine", total, child("build", workdir, "--ref", ref))
        plain = result(
            "plain", total, child("plain", workdir, workdir / "plain", workdir / "p.zip")
        )
    ratio = plain.seconds / engine.seconds
    checks = {"peak_memory": engine.peak_mb < MAX_PEAK_MB, "ratio": ratio >= MIN_RATIO}
    return [engine, plain], {"ratio": ratio, "checks": checks, "pass": all(checks.values())}


def print_table(results: list[Result], outcome: dict) -> None:
    print(
        f"{'target':<8} {'records':>9} {'seconds':>8} {'records/s':>10} {'peak MB':>8} "
        f"{'zip MB':>7}"
    )
    for r in results:
        print(
            f"{r.target:<8} {r.records:>9} {r.seconds:>8.1f} {r.records_per_second:>10.0f} "
            f"{r.peak_mb:>8.1f} {r.zip_mb:>7.1f}"
        )
    checks = outcome["checks"]
    print(
        f"engine peak memory: {results[0].peak_mb:.1f} MB (target < {MAX_PEAK_MB:.0f} MB) "
        f"{'ok' if checks['peak_memory'] else 'MISSED'}"
    )
    print(
        f"speed engine/plain: {outcome['ratio']:.2f} (target >= {MIN_RATIO:.2f}) "
        f"{'ok' if checks['ratio'] else 'MISSED'}"
    )
    print("PASS" if outcome["pass"] else "FAIL")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in all")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--phase", choices=("write", "build"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ref", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.records < len(TABLES):
        parser.error(f"--records must be at least {len(TABLES)}")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    if opts.phase == "write":
        print(json.dumps(write_phase(opts.workdir, opts.records)))
        return 0
    if opts.phase == "build":
        print(json.dumps(build_phase(opts.workdir, opts.ref)))
        return 0
    results, outcome = benchmark(opts.records)
    if opts.json:
        print(
            json.dumps(
                {
                    "results": [asdict(r) for r in results],
                    **outcome,
                    "targets": {"max_peak_mb": MAX_PEAK_MB, "min_ratio": MIN_RATIO},
                },
                indent=2,
            )
        )
    else:
        print_table(results, outcome)
    return 0 if outcome["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
