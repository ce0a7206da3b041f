"""Case statuses: the steps of the office's published complaint-handling standard."""

from __future__ import annotations

import re
from enum import StrEnum


class CaseStatus(StrEnum):
    DITERIMA = "diterima"  # (1) received: opened by ingestion
    DICATAT = "dicatat"  # (2-3) recorded, confirmed, level set
    DIDISTRIBUSIKAN = "didistribusikan"  # (4) distributed to the division concerned
    DITANGGAPI = "ditanggapi"  # (5) answer delivered to the complainant
    DIARSIPKAN = "diarsipkan"  # (6) archived with the follow-up plan


LABELS = {
    CaseStatus.DITERIMA: "Diterima",
    CaseStatus.DICATAT: "Dicatat",
    CaseStatus.DIDISTRIBUSIKAN: "Didistribusikan",
    CaseStatus.DITANGGAPI: "Ditanggapi",
    CaseStatus.DIARSIPKAN: "Diarsipkan",
}

OPEN = tuple(s for s in CaseStatus if s is not CaseStatus.DIARSIPKAN)

PREFIX = "PGD"
# As quoted in a subject line or a message: "PGD-2026-000123", any case.
CASE_NUMBER = re.compile(rf"\b{PREFIX}-\d{{4}}-\d{{6}}\b", re.IGNORECASE)


def case_number(case_id: int, year: int) -> str:
    """What staff and complainants quote: PGD-2026-000123 (year the case was opened)."""
    return f"{PREFIX}-{year}-{case_id:06d}"


def parse_case_number(text: str) -> int | None:
    """The case id in 'PGD-2026-000123', '000123' or '123'; None when it is not one."""
    text = text.strip().upper()
    if text.startswith(PREFIX + "-"):
        parts = text.split("-")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        text = parts[2]
    return int(text) if text.isdigit() and int(text) > 0 else None
