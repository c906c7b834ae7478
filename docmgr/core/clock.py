"""Time in the organisation's zone: registers and yearly numbers follow local dates."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def now() -> datetime:
    return datetime.now(timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(zone())


def today() -> date:
    return local(now()).date()
