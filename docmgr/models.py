"""Every table of every slice, imported once so metadata and migrations see them all."""
from docmgr.core.audit import AuditEvent, AuditHead  # noqa: F401
from docmgr.core.auth import ApiToken, Organization, Unit, User  # noqa: F401
from docmgr.core.documents import StoredFile  # noqa: F401
from docmgr.core.numbering import Counter  # noqa: F401
from docmgr.core.outbox import OutboxItem  # noqa: F401
from docmgr.db import Base
from docmgr.inbound.models import Assignment, IncomingDocument  # noqa: F401
from docmgr.outbound.models import DraftVersion, OutgoingDocument, Recipient, RouteStep  # noqa: F401
from docmgr.records.models import Dossier, FiledDocument  # noqa: F401
from docmgr.search.models import FileText  # noqa: F401
from docmgr.signing.models import OrgSeal, SignatureImage, SigningKey  # noqa: F401

metadata = Base.metadata
