"""OpenAPI links (drf-spectacular postprocessing hook): a posted document's number leads
to the pages that show it. Clients read where to go next; schemathesis's stateful tests
(hsh_admin/tests/test_api_stateful.py) follow them from a POST to its GETs."""

# Collection path -> the GET paths a posted document's number opens ({number} in each).
DOCUMENT_PAGES = {
    "/api/sales/": ("/api/sales/{number}/", "/api/sales/{number}/receipt/"),
    "/api/payments/": ("/api/payments/{number}/", "/api/payments/{number}/receipt/"),
    "/api/returns/": (
        "/api/returns/{number}/",
        "/api/returns/{number}/receipt/",
        "/api/returns/{number}/receipt.pdf",
    ),
    "/api/cashups/": ("/api/cashups/{number}/",),
    "/api/distributions/": ("/api/distributions/{distribution_no}/",),
}


def add_links(result, generator, request, public):
    """Every 201 of a POST to a collection above links to its document's pages."""
    paths = result.get("paths", {})
    for collection, pages in DOCUMENT_PAGES.items():
        created = paths.get(collection, {}).get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links = created.setdefault("links", {})
        for page in pages:
            operation = paths.get(page, {}).get("get")
            if operation is None:
                continue
            parameter = page.split("{", 1)[1].split("}", 1)[0]
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": {parameter: f"$response.body#/{parameter}"},
                "description": "The document just posted, by its number.",
            }
    return result
