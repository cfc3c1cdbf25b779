"""A schedule's timetable as pickers (daily, weekly or monthly, a day, a time) and as
the cron fields celery beat runs it by; the next run times from those fields."""

from datetime import date, datetime, time, timedelta

from celery.schedules import crontab_parser
from django.utils import timezone

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FREQUENCIES = (("daily", "Every day"), ("weekly", "Every week"), ("monthly", "Every month"))
MONTH_DAYS = 28  # every month has a 28th: a monthly run never skips a short month


def cron_fields(frequency: str, weekday: int, month_day: int, at: time) -> dict[str, str]:
    """The cron fields of a picked timetable (weekday: Monday=0; cron's Sunday=0)."""
    return {
        "minute": str(at.minute),
        "hour": str(at.hour),
        "day_of_week": str((weekday + 1) % 7) if frequency == "weekly" else "*",
        "day_of_month": str(month_day) if frequency == "monthly" else "*",
    }


def pickers(minute: str, hour: str, day_of_week: str, day_of_month: str) -> dict | None:
    """The pickers of cron fields, or None when they say more than pickers can."""
    if not (minute.isdigit() and hour.isdigit()):
        return None
    at = time(int(hour), int(minute))
    if day_of_month == "*" and day_of_week == "*":
        return {"frequency": "daily", "weekday": 0, "month_day": 1, "at": at}
    if day_of_month == "*" and day_of_week.isdigit():
        weekday = (int(day_of_week) - 1) % 7
        return {"frequency": "weekly", "weekday": weekday, "month_day": 1, "at": at}
    if day_of_week == "*" and day_of_month.isdigit():
        return {"frequency": "monthly", "weekday": 0, "month_day": int(day_of_month), "at": at}
    return None


def timetable_in_words(minute: str, hour: str, day_of_week: str, day_of_month: str) -> str:
    """ "Every Monday at 06:00", or the cron fields spelt out when pickers cannot say it."""
    picked = pickers(minute, hour, day_of_week, day_of_month)
    if picked is None:
        return (
            f"Minute {minute}, hour {hour}, weekday {day_of_week} (0 = Sunday), "
            f"day of the month {day_of_month}"
        )
    at = picked["at"].strftime("%H:%M")
    if picked["frequency"] == "weekly":
        return f"Every {WEEKDAYS[picked['weekday']]} at {at}"
    if picked["frequency"] == "monthly":
        return f"Every month on day {picked['month_day']} at {at}"
    return f"Every day at {at}"


def next_runs(
    minute: str, hour: str, day_of_week: str, day_of_month: str, *, count=5, after=None
) -> list[datetime]:
    """The next `count` moments the cron fields fall on after `after` (now), in the
    business time zone; a day must match both the weekday and the day of the month."""
    after = timezone.localtime(after or timezone.now())
    minutes = sorted(crontab_parser(60).parse(minute))
    hours = sorted(crontab_parser(24).parse(hour))
    weekdays = crontab_parser(7).parse(day_of_week)
    month_days = crontab_parser(31, 1).parse(day_of_month)
    found: list[datetime] = []
    day: date = after.date()
    for _ in range(4 * 366):  # a 29th of February on a Sunday is rare, not never
        if (day.isoweekday() % 7) in weekdays and day.day in month_days:
            for h in hours:
                for m in minutes:
                    moment = timezone.make_aware(datetime.combine(day, time(h, m)))
                    if moment > after:
                        found.append(moment)
                        if len(found) == count:
                            return found
        day += timedelta(days=1)
    return found
