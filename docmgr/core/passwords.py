"""What a new password must be, and the temporary passwords an administrator hands out.

A new password is long enough, neither is nor contains the username, uses more than a few
different characters, and is not a common password — nor a common word dressed up with
digits and signs around it ("Sunshine2024!"). The rules apply wherever a password is set
(changing one's own, an administrator's reset, the create-user command), never at login:
an existing password keeps working until it is changed.

The common passwords are the 30,000 of data/common_passwords.txt (source and licence in
data/common_passwords.SOURCE.txt), read once per process on first use.
"""
import secrets
from functools import cache
from pathlib import Path

from docmgr.core.errors import ValidationFailed

MAX_LENGTH = 128  # bounds the work of hashing and of these checks
MIN_DISTINCT_CHARACTERS = 5
# A stem shorter than this is too weak a signal: "ab" inside "ab3kd9-x7q!" means nothing.
MIN_STEM = 4
_COMMON_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
# Temporary passwords: no characters that read alike (l/1, o/0, i/j) when dictated.
_TEMPORARY_ALPHABET = "abcdefghkmnpqrstuvwxyz23456789"
_GROUP = 4


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(_COMMON_FILE.read_text(encoding="utf-8").split())


def _stem(folded: str) -> str:
    """The password without the digits and signs at either end: "sunshine" of "sunshine2024!"."""
    start, end = 0, len(folded)
    while start < end and not folded[start].isalpha():
        start += 1
    while end > start and not folded[end - 1].isalpha():
        end -= 1
    return folded[start:end]


def is_common(password: str) -> bool:
    folded = password.casefold()
    stem = _stem(folded)
    common = common_passwords()
    return folded in common or (len(stem) >= MIN_STEM and stem in common)


def check_new_password(password: str, *, username: str, min_length: int,
                       field: str = "new_password") -> None:
    """Refuse (ValidationFailed, 400) a password that breaks a rule, naming the rule."""
    if len(password) < min_length:
        raise ValidationFailed(f"Mật khẩu phải có ít nhất {min_length} ký tự.", field=field)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự.", field=field)
    folded, name = password.casefold(), username.strip().casefold()
    if name and (folded == name or len(name) >= 3 and name in folded):
        raise ValidationFailed("Mật khẩu không được chứa tên đăng nhập.", field=field)
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise ValidationFailed("Mật khẩu quá đơn giản: hãy dùng nhiều ký tự khác nhau hơn.",
                               field=field)
    if is_common(password):
        raise ValidationFailed("Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác.",
                               field=field)


def temporary_password(*, username: str, min_length: int) -> str:
    """A random password to hand over once, e.g. ``k7dm-x3pq-9hrt-wc4e`` (about 78 bits),
    that itself passes the rules, however long they ask it to be."""
    count = max(4, -(-(min_length + 1) // (_GROUP + 1)))  # groups of 4 and a dash
    while True:
        groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(_GROUP))
                  for _ in range(count))
        candidate = "-".join(groups)
        try:
            check_new_password(candidate, username=username, min_length=min_length)
        except ValidationFailed:  # astronomically rare (the username by chance): draw again
            continue
        return candidate
