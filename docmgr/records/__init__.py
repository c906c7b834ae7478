"""Hồ sơ and archiving: the yearly danh mục hồ sơ, filing documents, closing, retention,
the due date for submission to the organisation's archive and the ND30 export."""
