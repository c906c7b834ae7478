"""Who may open an indexed document, as principals stored with it in the index.

The index holds, for each document, the principals that may open it; a query carries the
caller's principals and only documents sharing one can match. Role and the headship of a
unit (``unit:<id>:heads``: its head and deputies) are principals of their own, so changing
a user's role, unit or deputy mark takes effect at once without re-indexing. The rules
mirror the slices' ``visible_clause`` (tests/search/test_access.py checks they agree).
What the index has not caught up with yet is handled at query time (see
:mod:`docmgr.search.pending`).
"""
from docmgr.core.auth import Role, User


def of_user(user: User) -> tuple[str, ...]:
    found = [f"org:{user.org_id}", f"org:{user.org_id}:{user.role}", f"user:{user.id}"]
    if user.headed_unit_id is not None:
        found.append(unit_heads(user.headed_unit_id))
    return tuple(found)


def unit_heads(unit_id: int) -> str:
    """The principal of a unit's head and deputies (never of its other members)."""
    return f"unit:{unit_id}:heads"


def of_incoming(doc, active_assignments) -> list[str]:
    """Everyone in the organisation; classified: leaders, the registering clerk, the persons
    named on it and, for a unit it is assigned to, that unit's head and deputies."""
    if doc.secrecy == "normal":
        return [f"org:{doc.org_id}"]
    found = {f"org:{doc.org_id}:{Role.LEADER}"}
    if doc.registered_by_id:
        found.add(f"user:{doc.registered_by_id}")
    for assignment in active_assignments:
        found.add(f"user:{assignment.user_id}" if assignment.user_id is not None
                  else unit_heads(assignment.unit_id))
    return sorted(found)


def of_outgoing(doc, reviewer_ids) -> list[str]:
    """Issued and unclassified: everyone in the organisation; classified: leaders, clerks,
    the author, the signer and the reviewers on its route."""
    if doc.secrecy == "normal":
        return [f"org:{doc.org_id}"]
    found = {f"org:{doc.org_id}:{Role.LEADER}", f"org:{doc.org_id}:{Role.CLERK}",
             f"user:{doc.author_id}", f"user:{doc.signer_id}"}
    found.update(f"user:{reviewer}" for reviewer in reviewer_ids)
    return sorted(found)
