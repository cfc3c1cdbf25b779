from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self):
        # check_stock also proves cylinders conserved (invariant 11): stock may not import
        # sales, so sales hands it the checks of the cylinders customers hold.
        from sales.conservation import conservation_check, holdings_check
        from stock.checks_registry import stock_check_register

        stock_check_register(holdings_check)
        stock_check_register(conservation_check)
