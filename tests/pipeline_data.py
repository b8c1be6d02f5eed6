"""Small landing folders made from the bundled corpus, for the ingestion and Dagster tests.

Nothing here runs the pipeline; it only lays files and computes, straight from the parser, what the warehouse
should contain (the oracle the tests compare DuckDB against).
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

from govreports.parser import parse_path
from tests.gold import CORPUS

NOT_A_REPORT = "今天天气很好，我们去公园散步，然后吃饭。\n".encode()

# landing path -> corpus file (None: the bytes above)
LAYOUT: dict[str, str | None] = {
    "2019/putian_cgj_2019.txt": "dev/putian_cgj_2019.txt",
    "2019/001_2635f51a17d978ae.txt": "seeds/001_2635f51a17d978ae.txt",
    "2020/pingtan_qu_2020.txt": "dev/pingtan_qu_2020.txt",
    "2020/putian_sjj_2020.txt": "dev/putian_sjj_2020.txt",
    "2020/putian_tjj_2020.html": "html/putian_tjj_2020.html",
    "2020/sub/zz_copy_of_sjj.txt": "dev/putian_sjj_2020.txt",  # duplicate bytes under another name
    "2020/notes.txt": None,  # not a report
    "inbox/000_5c245e0f5975cf67.txt": "seeds/000_5c245e0f5975cf67.txt",  # no year folder: the report says 2020
    "2021/putian_hyyyj_2021.txt": "dev/putian_hyyyj_2021.txt",
    "2021/putian_yjglj_2021.html": "html/putian_yjglj_2021.html",
}


def lay_landing(landing: Path, layout: dict[str, str | None] = LAYOUT) -> Path:
    for target, source in layout.items():
        path = landing / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            path.write_bytes(NOT_A_REPORT)
        else:
            shutil.copyfile(CORPUS / source, path)
    return landing


def year_of(target: str) -> int | None:
    head = target.split("/", 1)[0]
    return int(head) if head.isdigit() else None


def expected_counts(landing: Path, year: int, layout: dict[str, str | None] = LAYOUT) -> dict[str, object]:
    """What the core tables of ``year`` must hold, computed from the parser directly."""
    files = []
    for target in sorted(layout):
        record = parse_path(landing / target)
        folder = year_of(target)
        printed = (record.get("metadata") or {}).get("report_year")
        if (folder if folder is not None else printed) == year:
            files.append((target, hashlib.sha256((landing / target).read_bytes()).hexdigest(), record))
    seen_sha: set[str] = set()
    seen_ids: set[str] = set()
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for _target, sha, record in files:
        if sha in seen_sha:
            reasons["duplicate"] += 1
            continue
        seen_sha.add(sha)
        if record["status"] == "quarantined":
            reasons[record["reason"]] += 1
            continue
        if record["report_id"] in seen_ids:
            reasons["duplicate_report"] += 1
            continue
        seen_ids.add(record["report_id"])
        counts["reports"] += 1
        for table in ("active_disclosure", "applications", "appeals", "sections", "findings"):
            counts[table] += len(record[table])
    counts["quarantine"] = sum(reasons.values())
    return {"files": len(files), "tables": dict(counts), "reasons": dict(reasons)}
