"""Celery tasks of stock: call a service, nothing else."""

from celery import shared_task

from stock import services


@shared_task
def low_stock_alert_daily() -> int:
    """Celery beat, daily: e-mail each depot's managers the products that fell below
    their reorder level (once per crossing: stock.services.low_stock_alerts_send)."""
    return services.low_stock_alerts_send()
