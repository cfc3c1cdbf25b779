"""What the admin fuzzer (test_admin_fuzz.py) sends: hypothesis strategies for query
strings and form data, and where to find a ModelAdmin's parameters, forms and own pages.
Nothing here asserts; the tests do."""

from urllib.parse import parse_qsl, urlencode

from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.urls import NoReverseMatch, reverse
from hypothesis import strategies as st

# Values a person, a crawler or an attacker may type: empty, numbers at the edges of
# every integer type, dates that are not, SQL and LIKE metacharacters, unicode that
# normalises, right-to-left marks, and text longer than any column.
NASTY = [
    "", " ", "0", "-1", "1", "2", "-0", "1.5", "1e308", "NaN", "inf", "-inf",
    "2147483648", "-2147483649", "9223372036854775808", "99999999999999999999999999",
    "2026-11-30", "2026-13-45", "0000-00-00", "9999-12-31", "30/11/2026", "2026-11-30T25:61",
    "true", "false", "None", "null", "[]", "{}", "1,2", "1__2", "__", "pk", "-pk", "id",
    "%", "%%", "_", "\\", "'", '"', "' OR 1=1 --", "1; DROP TABLE core_user;--",
    "\u0663", "\U0001d7d9", "\uff21\uff22\uff23", "ß", "İ", "🚀", "\u202e", "\ufeff",
    "a" * 300, "9" * 5000, "é" * 2000,
]  # fmt: skip
# Orderings: valid column numbers, signs, dots, out of range, not numbers.
ORDERINGS = ["1", "-1", "2.-3", "0", "-0", "99", "1.1.1", "-", ".", "a", "1..2", "-99.-1", "1e3"]

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF), max_size=40
)
junk = st.one_of(
    st.sampled_from(NASTY),
    text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
    st.dates().map(str),
)


def changelist_names(response) -> tuple[list[str], list[tuple[str, str]]]:
    """The parameter names a changelist's filters read, and the (name, value) pairs
    their own links set (valid values), from a 200 changelist response."""
    names: list[str] = []
    valid: list[tuple[str, str]] = []
    cl = response.context["cl"]
    for spec in cl.filter_specs:
        names += spec.expected_parameters()
        for choice in spec.choices(cl):
            valid += parse_qsl(choice.get("query_string", "").lstrip("?"))
    if cl.date_hierarchy:
        field = cl.date_hierarchy
        names += [f"{field}__year", f"{field}__month", f"{field}__day"]
    return names, valid


def query_strategy(names: list[str], valid: list[tuple[str, str]]):
    """A list of (name, value) pairs: filters with valid or junk values, orderings,
    searches, pages, popups, saved filters, and names nobody declared."""
    known = [*names, "all", "e", "_to_field", "_popup", "_facets", "unknown", "id__gt"]
    pair = st.one_of(
        st.tuples(st.sampled_from(known), junk),
        st.tuples(st.just(ORDER_VAR), st.sampled_from(ORDERINGS) | junk),
        st.tuples(st.just(SEARCH_VAR), junk),
        st.tuples(st.just(PAGE_VAR), st.sampled_from(["0", "-1", "2", "999999", "1e9"]) | junk),
        st.tuples(
            st.just("_changelist_filters"),
            st.lists(st.tuples(st.sampled_from(known), junk), max_size=3).map(urlencode),
        ),
        st.tuples(text.filter(bool), junk),
        *([st.sampled_from(valid)] if valid else []),
    )
    return st.lists(pair, max_size=5)


def form_values(form) -> dict:
    """The data a browser would post for an unbound form as rendered."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = "on" if value is True else str(value)
    return data


def forms_in(context) -> dict:
    """Every field a page's forms post: the main form, each inline's management form
    and first row."""
    data: dict = {}
    adminform = context.get("adminform")
    form = adminform.form if adminform is not None else context.get("form")
    if form is not None and hasattr(form, "fields"):
        data.update(form_values(form))
    for inline in context.get("inline_admin_formsets") or ():
        formset = inline.formset
        data.update(form_values(formset.management_form))
        if formset.forms:
            data.update(form_values(formset.forms[0]))
        else:
            data.update(form_values(formset.empty_form))
            data[f"{formset.prefix}-TOTAL_FORMS"] = "1"
    return data


def post_strategy(base: dict):
    """The form's own data with some fields replaced by junk, some removed, and now and
    then a field nobody asked for."""
    names = sorted(base) or ["x"]
    return st.tuples(
        st.dictionaries(st.sampled_from(names), junk | st.lists(junk, max_size=3), max_size=6),
        st.sets(st.sampled_from(names), max_size=3),
        st.dictionaries(text.filter(bool), junk, max_size=1),
    ).map(lambda t: {**{k: v for k, v in base.items() if k not in t[1]}, **t[0], **t[2]})


DEFAULT_URL_NAMES = {
    "changelist", "add", "history", "delete", "change", "autocomplete", "view_on_site",
}  # fmt: skip


def own_urls(model_admin, obj) -> list[str]:
    """The URLs of a ModelAdmin's own pages (its get_urls beyond Django's), with the
    object's key where they take one."""
    opts = model_admin.model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    urls = []
    for pattern in model_admin.get_urls():
        name = pattern.name or ""
        if not name or name in {prefix + default for default in DEFAULT_URL_NAMES}:
            continue
        pk = obj.pk if obj is not None else 1
        for args, kwargs in (((), {}), ((), {"pk": pk}), ((pk,), {}), ((pk, "1"), {})):
            try:
                urls.append(reverse(f"admin:{name}", args=args, kwargs=kwargs))
                break
            except NoReverseMatch:
                continue
    return urls
