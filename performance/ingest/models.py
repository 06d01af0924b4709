"""The record of every import: which file, what it did, who ran it and when."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One import through either door (``import_data`` or the admin), written in its transaction.

    Rows of kinds without a history of their own (tickets: millions of rows) are audited by
    their batch alone: who imported which file (by its SHA-256) when, and how many rows it
    added and updated.
    """

    kind = models.CharField(_("kind"), max_length=32)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_added = models.PositiveIntegerField(_("rows added"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    door = models.CharField(_("door"), max_length=16)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"{self.kind} · {self.file_name or '-'} · {self.imported_at:%Y-%m-%d %H:%M}"
