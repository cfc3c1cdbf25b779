"""en-gb output formats, matching core.display.moment() and day(): "30 Nov 2026 14:05",
"30 Nov 2026", 24-hour times. Input formats are not set here, so Django's en_GB ones
(and the ISO YYYY-MM-DD every form accepts) stay as they are."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i"
