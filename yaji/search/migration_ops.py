"""Migration operations shared by the search app's migrations."""

from django.db import migrations


class VendorRunSQL(migrations.RunSQL):
    """RunSQL that applies only on one database vendor (``sqlite`` or ``postgresql``)."""

    def __init__(self, vendor: str, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.vendor = vendor
        super().__init__(*args, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)
