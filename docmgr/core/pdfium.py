"""PDFium (via pypdfium2) is not thread-safe: every call into it from a threaded process
holds this lock. Rendering, text extraction, OCR and upload checks no longer run in the
web process (``docmgr.core.sandbox``, single-threaded workers need no lock); what is left
here is signature placement on drafts that already passed the upload check."""
import threading

LOCK = threading.RLock()
