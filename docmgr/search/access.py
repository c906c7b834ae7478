"""Who may open an indexed document, as principals stored with it in the index.

The index holds, for each document, the principals that may open it; a query carries the
caller's principals and only documents sharing one can match. Role and unit are
principals of their own, so changing a user's role or unit takes effect at once without
re-indexing. The rules mirror the slices' ``visible_clause`` (a test checks they agree).
"""
from docmgr.core.auth import Role, User


def of_user(user: User) -> tuple[str, ...]:
    found = [f"org:{user.org_id}", f"org:{user.org_id}:{user.role}", f"user:{user.id}"]
    if user.unit_id is not None:
        found.append(f"unit:{user.unit_id}")
    return tuple(found)


def of_incoming(doc, active_assignments) -> list[str]:
    """Everyone in the organisation; classified: leaders, the registering clerk, assignees."""
    if doc.secrecy == "normal":
        return [f"org:{doc.org_id}"]
    found = {f"org:{doc.org_id}:{Role.LEADER}"}
    if doc.registered_by_id:
        found.add(f"user:{doc.registered_by_id}")
    for assignment in active_assignments:
        found.add(f"user:{assignment.user_id}" if assignment.user_id is not None
                  else f"unit:{assignment.unit_id}")
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
