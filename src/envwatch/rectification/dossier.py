"""One file per case (一案一档): a problem's whole record as a ZIP, pure.

The archive holds ``problem.json`` (the problem, its history, links and the
list of its evidence), ``案卷.txt`` (the same for a reader, in Chinese), and
every evidence file under ``evidence/`` with the SHA-256 it was stored
under in ``SHA256SUMS``, so the dossier can be checked away from envwatch
(``sha256sum -c SHA256SUMS``)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

# Fixed member times: the same record gives the same bytes.
STAMP = (2000, 1, 1, 0, 0, 0)


def _member(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, content)


def evidence_path(index: int, name: str) -> str:
    """A file's place in the archive: numbered, so equal names do not collide."""
    return f"evidence/{index:03d}-{name}"


def dossier(
    problem: Mapping[str, Any], files: Mapping[str, bytes], names: Mapping[str, str]
) -> bytes:
    """The ZIP of ``problem`` (as ``queries.visible_problem`` gives it), with
    the contents of its evidence by SHA-256; ``names`` are the words for its
    states and actions."""
    out = io.BytesIO()
    sums = []
    with zipfile.ZipFile(out, "w") as archive:
        record = json.dumps(problem, ensure_ascii=False, indent=2, sort_keys=True)
        _member(archive, "problem.json", record.encode("utf-8"))
        _member(archive, "案卷.txt", record_text(problem, names).encode("utf-8"))
        for index, item in enumerate(problem["evidence"], start=1):
            path = evidence_path(index, item["name"])
            _member(archive, path, files[item["sha256"]])
            sums.append(f"{item['sha256']}  {path}\n")
        _member(archive, "SHA256SUMS", "".join(sums).encode("utf-8"))
    return out.getvalue()


def record_text(problem: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The dossier's cover and history, for a reader."""
    lines = [
        f"整改事项 #{problem['id']}：{problem['title']}",
        f"来源：{problem['source']} · {problem['batch']} · 序号 {problem['item_no']}",
        f"区县：{problem.get('county_name') or problem['county']}",
        f"牵头责任单位：{problem['responsible']}",
        f"配合责任单位：{problem['cooperating_units']}",
        f"整改措施：{problem['measures']}",
        f"整改时限：{problem['deadline']}",
        f"当前状态：{names.get(problem['state'], problem['state'])}",
        "",
        "办理记录：",
    ]
    for event in problem["events"]:
        before, after = names.get(event["from"], event["from"]), names.get(event["to"], event["to"])
        moved = f" {before} → {after}" if event["from"] != event["to"] else ""
        note = f"：{event['note']}" if event["note"] else ""
        lines.append(f"{event['at']} {event['actor']}（{event['role']}）"
                     f"{names.get(event['action'], event['action'])}{moved}{note}")  # fmt: skip
    lines += ["", "佐证材料："]
    for index, item in enumerate(problem["evidence"], start=1):
        lines.append(f"{evidence_path(index, item['name'])}  SHA-256 {item['sha256']}")
    return "\n".join(lines) + "\n"
