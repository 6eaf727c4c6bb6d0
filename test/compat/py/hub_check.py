"""huggingface_hub and our trainer sharing one cache (HF_ENDPOINT: the tests' Hub-compatible server).

usage:
  python hub_check.py download REPO_ID CACHE
      snapshot_download into CACHE; prints {"snapshot": path, "files": [...]}
  python hub_check.py verify REPO_TYPE REPO_ID REVISION CACHE FILES.json
      what our trainer downloaded into CACHE, as huggingface_hub sees it: scan_cache_dir reports the
      repo complete (no warnings, the revision's ref, every file with its blob and size), and
      snapshot_download / hf_hub_download with local_files_only=True return our paths.
      FILES.json: {"snapshot": our snapshot folder, "files": {repo file name: our path}}.
      Prints a JSON list of problems.
"""

import json
import os
import sys
from pathlib import Path

from huggingface_hub import hf_hub_download, scan_cache_dir, snapshot_download


def download(repo_id, cache):
    snap = snapshot_download(repo_id, cache_dir=cache)
    files = sorted(str(p.relative_to(snap)) for p in Path(snap).rglob("*") if p.is_file())
    print(json.dumps({"snapshot": snap, "files": files}))


def verify(repo_type, repo_id, revision, cache, files_json):
    ours = json.loads(Path(files_json).read_text(encoding="utf-8"))
    problems = []
    info = scan_cache_dir(cache)
    problems += [f"scan_cache_dir warning: {w}" for w in info.warnings]
    repos = [r for r in info.repos if r.repo_id == repo_id and r.repo_type == repo_type]
    if len(repos) != 1:
        problems.append(f"scan_cache_dir finds {len(repos)} {repo_type} repos {repo_id} (of {[(r.repo_type, r.repo_id) for r in info.repos]})")
        print(json.dumps(problems))
        return
    repo = repos[0]
    revs = [r for r in repo.revisions if revision in r.refs]
    if len(revs) != 1:
        problems.append(f"no cached revision has the ref {revision!r}: {[sorted(r.refs) for r in repo.revisions]}")
    else:
        rev = revs[0]
        if os.path.realpath(rev.snapshot_path) != os.path.realpath(ours["snapshot"]):
            problems.append(f"scan_cache_dir's snapshot {rev.snapshot_path} is not ours {ours['snapshot']}")
        cached = {str(Path(f.file_path).relative_to(rev.snapshot_path)): f for f in rev.files}
        if sorted(cached) != sorted(ours["files"]):
            problems.append(f"scan_cache_dir's files {sorted(cached)} vs what we downloaded {sorted(ours['files'])}")
        for name, f in cached.items():
            if not f.blob_path.exists() or f.blob_path.stat().st_size != f.size_on_disk or f.size_on_disk == 0:
                problems.append(f"{name}: blob {f.blob_path} missing or of the wrong size")
        if repo_type == "model":
            snap = snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
            if os.path.realpath(snap) != os.path.realpath(ours["snapshot"]):
                problems.append(f"snapshot_download(local_files_only=True) returned {snap}, ours is {ours['snapshot']}")
    for name, path in ours["files"].items():
        try:
            got = hf_hub_download(repo_id, name, repo_type=repo_type, revision=revision, cache_dir=cache, local_files_only=True)
        except Exception as e:  # noqa: BLE001 -- the library's own message is the report
            problems.append(f"hf_hub_download({name!r}, local_files_only=True): {type(e).__name__}: {e}")
            continue
        if got != path:
            problems.append(f"hf_hub_download({name!r}, local_files_only=True) returned {got}, ours is {path}")
    print(json.dumps(problems))


if __name__ == "__main__":
    if sys.argv[1] == "download":
        download(sys.argv[2], sys.argv[3])
    else:
        verify(*sys.argv[2:7])
