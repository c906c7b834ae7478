"""PDFium (via pypdfium2) is not thread-safe: every call into it holds this lock."""
import threading

LOCK = threading.RLock()
