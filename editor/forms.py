"""Forms of the editor's pages: they only carry text; documents are checked by the core."""

from django import forms


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="a netlab/v1 design (JSON or YAML), a containerlab topology or a command script"
    )


class DocumentForm(forms.Form):
    document = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false"}))
    message = forms.CharField(max_length=500, required=False)
