"""What the search slice keeps in the database: the text of every stored PDF."""
from sqlalchemy import JSON, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.db import Base, UTCDateTime, utcnow


class FileText(Base):
    """The text of one stored file, page by page (joined with form feeds). The PDF itself is
    never rewritten; highlights are built from this text, not from the index."""
    __tablename__ = "file_texts"
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    ocr_pages: Mapped[list] = mapped_column(JSON, default=list)  # 0-based pages read by OCR
    missing_pages: Mapped[list] = mapped_column(JSON, default=list)  # no text layer, OCR due
    extracted_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def page_texts(self) -> list[str]:
        return self.text.split("\f") if self.pages else []
