"""Existing themes made before the contrast check (the old default accent was 2.95:1 under white
text; two demo partners 2.02:1 and 3.03:1): each failing colour becomes its nearest passing shade,
and a font outside the safe list becomes the system font."""

from typing import Any

from django.db import migrations

from themes.contrast import theme_checks

SAFE_FONTS = {
    "system-ui, sans-serif",
    "Arial, Helvetica, sans-serif",
    "Verdana, Geneva, sans-serif",
    "Trebuchet MS, Helvetica, sans-serif",
    "Tahoma, Verdana, sans-serif",
    "Georgia, Times New Roman, serif",
    "Palatino Linotype, Book Antiqua, Palatino, serif",
}


def repair(apps: Any, schema_editor: Any) -> None:
    Theme = apps.get_model("themes", "Theme")
    for theme in Theme.objects.all():
        changed = set()
        # Twice: fixing the primary colour against white may be what the background check needed.
        for _ in range(2):
            for check in theme_checks(
                primary=theme.primary_colour,
                secondary=theme.secondary_colour,
                accent=theme.accent_colour,
                background=theme.background_colour,
            ):
                if not check.passes:
                    setattr(theme, check.field, check.suggestion)
                    changed.add(check.field)
        if theme.font_family not in SAFE_FONTS:
            theme.font_family = "system-ui, sans-serif"
            changed.add("font_family")
        if changed:
            theme.save(update_fields=sorted(changed))


class Migration(migrations.Migration):
    dependencies = [("themes", "0002_theme_assets_and_secondary")]
    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
