"""Recompute members' per-tenant ids after KINDRED_MEMBER_ID_KEY changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from members.services import refresh_local_member_ids


class Command(BaseCommand):
    help = "Recompute every member's stored per-partner id (run after rotating KINDRED_MEMBER_ID_KEY)."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = refresh_local_member_ids()
        self.stdout.write(f"{changed} per-partner member ids updated")
