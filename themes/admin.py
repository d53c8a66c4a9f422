from django.contrib import admin

from themes.models import Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin[Theme]):
    list_display = ["tenant", "primary_colour", "accent_colour", "updated_at"]
