"""Every table of every slice, imported once so metadata and migrations see them all, and
the slices' closed value sets for the templates."""
from docmgr.core.audit import AuditEvent, AuditHead  # noqa: F401
from docmgr.core.auth import ApiToken, LeaderPosition, Organization, Unit, User  # noqa: F401
from docmgr.core.documents import StoredFile  # noqa: F401
from docmgr.core.numbering import Counter  # noqa: F401
from docmgr.core.outbox import OutboxItem  # noqa: F401
from docmgr.core.sessions import UserSession  # noqa: F401
from docmgr.core.throttle import LoginThrottle  # noqa: F401
from docmgr.db import Base
from docmgr.inbound.models import (  # noqa: F401
    Assignment,
    AssignmentRole,
    IncomingDocument,
    IncomingStatus,
)
from docmgr.outbound.models import (  # noqa: F401
    Authority,
    DispatchStatus,
    DraftVersion,
    OutgoingDocument,
    OutgoingStatus,
    Recipient,
    ReviewDecision,
    RouteStep,
    SignerKind,
    SigningAuthority,
)
from docmgr.records.models import Dossier, DossierStatus, FiledDocument  # noqa: F401
from docmgr.search.models import FileText  # noqa: F401
from docmgr.signing.models import OrgSeal, SignatureImage, SigningKey  # noqa: F401

metadata = Base.metadata

# Jinja globals (the app factory registers them), so that templates compare and label with
# the enums instead of retyping values: ``{% if doc.status == IncomingStatus.PENDING %}``.
TEMPLATE_GLOBALS = {choices.__name__: choices for choices in (
    IncomingStatus, AssignmentRole, OutgoingStatus, ReviewDecision, DispatchStatus,
    DossierStatus, LeaderPosition, SignerKind, Authority)}
