"""One file per case (一案一档): a problem's whole record as a ZIP, pure.

The archive holds ``problem.json`` (the problem, its history, links and the
list of its evidence), ``案卷.txt`` (the same for a reader, in Chinese),
``案卷.pdf`` (the same as a printable file, fonts embedded: ``dossier_pdf``), and
every evidence file under ``evidence/`` with the SHA-256 it was stored
under in ``SHA256SUMS``, so the dossier can be checked away from envwatch
(``sha256sum -c SHA256SUMS``)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from envwatch.reports.pdf import PdfDocument

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
    problem: Mapping[str, Any],
    files: Mapping[str, bytes],
    names: Mapping[str, str],
    pdf: bytes | None = None,
) -> bytes:
    """The ZIP of ``problem`` (as ``queries.visible_problem`` gives it), with
    the contents of its evidence by SHA-256; ``names`` are the words for its
    states and actions; ``pdf`` the printable case file, if made."""
    out = io.BytesIO()
    sums = []
    with zipfile.ZipFile(out, "w") as archive:
        record = json.dumps(problem, ensure_ascii=False, indent=2, sort_keys=True)
        _member(archive, "problem.json", record.encode("utf-8"))
        _member(archive, "案卷.txt", record_text(problem, names).encode("utf-8"))
        if pdf is not None:
            _member(archive, "案卷.pdf", pdf)
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


def _cover(problem: Mapping[str, Any], names: Mapping[str, str]) -> list[tuple[str, object]]:
    return [
        ("编号 No.", problem["id"]),
        ("来源 Source", f"{problem['source']} · {problem['batch']} · 序号 {problem['item_no']}"),
        ("区县 County", problem.get("county_name") or problem["county"]),
        ("牵头责任单位 Responsible", problem["responsible"]),
        ("配合责任单位 Cooperating", problem["cooperating_units"]),
        ("整改措施 Measures", problem["measures"]),
        ("整改时限 Deadline", problem["deadline"]),
        ("当前状态 State", names.get(problem["state"], problem["state"])),
    ]


def dossier_pdf(problem: Mapping[str, Any], names: Mapping[str, str], created: datetime) -> bytes:
    """The case file (一案一档) as a PDF: cover, history and the list of
    evidence with the SHA-256 each file is stored under. ``created`` fixes
    the file's date, so the same record gives the same document."""
    document = PdfDocument(
        f"整改事项案卷 #{problem['id']}",
        created=created,
        footer_note="envwatch 一案一档 · case file",
    )
    document.title_block(str(problem["title"]))
    document.heading("基本情况 Case")
    document.key_values(_cover(problem, names))
    document.heading("办理记录 History")
    rows = []
    for event in problem["events"]:
        before, after = names.get(event["from"], event["from"]), names.get(event["to"], event["to"])
        rows.append((event["at"], f"{event['actor']}（{event['role']}）",
                     names.get(event["action"], event["action"]),
                     f"{before} → {after}" if event["from"] != event["to"] else after,
                     event["note"] or ""))  # fmt: skip
    document.table(("时间 Time", "办理人 Actor", "动作 Action", "状态 State", "意见 Note"),
                   rows, widths=(2.2, 2, 1.3, 2.2, 3))  # fmt: skip
    document.heading("佐证材料 Evidence")
    evidence = [
        (index, item["name"], item["sha256"])
        for index, item in enumerate(problem["evidence"], start=1)
    ]
    if evidence:
        document.table(("序号 No.", "文件 File", "SHA-256"), evidence, widths=(0.8, 2.5, 5),
                       size=7.5)  # fmt: skip
    else:
        document.paragraph("无 None")
    return document.to_bytes()
