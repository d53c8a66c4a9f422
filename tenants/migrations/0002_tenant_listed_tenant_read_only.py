from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
    ]

    operations = [
        # Tenants that exist already stay listed; only tenants provisioned from now on wait for their admin.
        migrations.AddField(model_name="tenant", name="listed", field=models.BooleanField(default=True)),
        migrations.AlterField(model_name="tenant", name="listed", field=models.BooleanField(default=False)),
        migrations.AddField(model_name="tenant", name="read_only", field=models.BooleanField(default=False)),
    ]
