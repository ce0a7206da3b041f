"""What every e-mail collector shares: the channel, its key space and its normaliser."""

from __future__ import annotations

from pengaduan.collectors.base import Collector, RawItem
from pengaduan.normalizer import email as mail

MEDIA_TYPE = "message/rfc822"


class MailCollector(Collector):
    """Base of ``imap`` and ``mail_archive``: a mail seen through both is one record."""

    channel = "email"
    key_space = "email"
    normalize = staticmethod(mail.normalize_email)

    @staticmethod
    def attachment_contents(item: RawItem) -> dict[str, bytes]:
        return mail.attachment_contents(item.payload)
