"""Peak memory of each process of a run on the OCR path: `python benchmarks/memory.py` (part of `make bench`).

Generates scanned letters once (kept in .bench/), runs `ofsted-letters ingest --force` over them and
samples every process of the run (/proc, Linux) as it goes: the highest resident memory (VmHWM)
of the main process, of each worker (the run's other Python processes) and of Tesseract, and each
worker's resident memory after each sample, to see whether its floor creeps.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def scans(n: int, seed: int, dpi: int) -> Path:
    """n scanned letters (image-only PDFs, one or two pages) made from generated text letters."""
    from fixtures import generate as gen
    from fixtures import hostile

    folder = ROOT / ".bench" / f"scans-{n}-{seed}-{dpi}"
    done = folder / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for i in range(n):
            (folder / f"scan_{i:03d}.pdf").write_bytes(gen.scan_pdf(hostile.letter_pdf(seed * 1000 + i), random.Random(i), dpi=dpi))
        done.write_text("ok")
    return folder


def _status(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])  # kB
    except (OSError, ValueError):
        pass
    return values


def _tree(root: int) -> dict[int, str]:
    """The run's processes below root: pid -> what it is (main, worker, tesseract, other)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            pid, ppid = int(stat.parent.name), int(text.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(pid)
    kinds, todo = {root: "main"}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        kinds[pid] = "tesseract" if name.startswith("tesseract") else "worker" if name.startswith("python") or "ofsted" in name else "other"
        todo += children.get(pid, [])
    return kinds


def measure(folder: Path, out: Path, workers: int, interval: float = 0.05) -> dict:
    cmd = [sys.executable, "-m", "pipeline.cli", "ingest", str(folder), "--out", str(out), "--workers", str(workers), "--quiet", "--force"]
    started = time.perf_counter()
    run = subprocess.Popen(cmd, cwd=ROOT)
    peaks: dict[int, tuple[str, int]] = {}
    floors: dict[int, list[int]] = {}  # a worker's resident memory at each sample
    while run.poll() is None:
        for pid, kind in _tree(run.pid).items():
            status = _status(pid)
            if "VmHWM" in status:
                peaks[pid] = (kind, max(status["VmHWM"], peaks.get(pid, (kind, 0))[1]))
            if kind == "worker" and "VmRSS" in status:
                floors.setdefault(pid, []).append(status["VmRSS"])
        time.sleep(interval)
    seconds = time.perf_counter() - started
    if run.returncode:
        raise SystemExit(f"ingest failed with exit code {run.returncode}")

    def top(kind: str) -> float:
        return round(max((kb for k, kb in peaks.values() if k == kind), default=0) / 1024, 1)

    # the least a worker held over the last quarter of its samples: its floor at the end of the run
    ends = [min(v[-max(1, len(v) // 4):]) / 1024 for v in floors.values() if v]
    return {
        "scan_documents": len(list(folder.glob("*.pdf"))),
        "workers": workers,
        "seconds": round(seconds, 1),
        "peak_main_mb": top("main"),
        "peak_worker_mb": top("worker"),
        "peak_tesseract_mb": top("tesseract"),
        "worker_floor_at_end_mb": round(max(ends, default=0), 1),
        "worker_processes": sum(1 for k, _ in peaks.values() if k == "worker"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=12, help="scanned letters (default 12)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=200, help="the scans' resolution (default 200)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = scans(args.n, args.seed, args.dpi)
    results = measure(folder, ROOT / ".bench" / "out-scans", args.workers)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
