"""Admin widgets that redraw whatever a user sent without asking the database about it."""

from django.contrib.admin import widgets
from django.core.exceptions import ValidationError


class SafeAutocompleteMixin(widgets.AutocompleteMixin):
    """Django's autocomplete widget looks the submitted value up to draw the selected
    option, so a value the key column cannot hold ("abc", "1.0", a NUL) raised a 500 while
    the form was being redrawn with its "Select a valid choice" error. Values that cannot be
    a key are left out of that lookup; the form field still reports them."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._could_be_key(v)], attr)

    def _could_be_key(self, value) -> bool:
        if str(value) in self.choices.field.empty_values:
            return True  # Django skips these itself
        remote_opts = self.field.remote_field.model._meta
        target = remote_opts.get_field(
            getattr(self.field.remote_field, "field_name", None) or remote_opts.pk.attname
        )
        try:
            python_value = target.to_python(value)
            target.run_validators(python_value)  # an integer key's range
            if isinstance(python_value, str) and "\x00" in python_value:
                return False  # PostgreSQL text cannot hold NUL
        except (ValidationError, ValueError, TypeError):
            return False
        return True


class AutocompleteSelect(SafeAutocompleteMixin, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(SafeAutocompleteMixin, widgets.AutocompleteSelectMultiple):
    pass
