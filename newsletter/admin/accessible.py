"""Where Django admin's own markup leaves a control without an accessible name, and the fix.

Django's tabular inlines name each column once, in the table's header, and render the inputs below it with
no <label>: a screen reader announces "edit text" for every cell (axe `label`, critical). A tabular inline
built on LabelledTabularInline gives each input its column's name (aria-label), the Delete box included.
"""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)  # adds DELETE (and the pk and foreign key) after the form's own fields
        for name, field in form.fields.items():
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("aria-label", str(field.label or name).capitalize())


class LabelledTabularInline(admin.TabularInline):
    formset = LabelledInlineFormSet
