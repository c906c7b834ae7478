"""Time in the organisation's zone: registers and yearly numbers follow local dates.

The zone is the ``TIMEZONE`` setting, handed over by the application factory through
``configure``; it is process-wide, not looked up in the Flask application, so that
operations, the CLI and scripts get the same local dates with or without an app context.
One office runs in one zone: the last application created in a process sets it.
"""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

_zone = ZoneInfo(DEFAULT_ZONE)


def configure(zone: ZoneInfo) -> None:
    global _zone
    _zone = zone


def zone() -> ZoneInfo:
    return _zone


def now() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(_zone)


def today() -> date:
    return local(now()).date()
