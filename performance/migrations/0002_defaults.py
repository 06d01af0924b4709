from django.db import migrations

from performance.defaults import install_defaults


def forwards(apps, schema_editor):
    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0001_initial"),
        ("commission", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
