"""Export of a hồ sơ: the PDFs byte for byte in chronological order, and metadata.xml
with the ND30 input-field names."""
import hashlib
import io
import xml.etree.ElementTree as ET
import zipfile

from docmgr.core import clock
from docmgr.demo import sample_pdf
from tests.records.conftest import file_into


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_export_round_trip(api, world, dossier, incoming, issued, blobs):
    pdfs = [sample_pdf([f"VAN BAN {n}"], pages=n) for n in (1, 2, 3)]
    first = incoming(days_ago=5, pdf=pdfs[0], sender=world.other_org.name)
    oldest = incoming(days_ago=10, pdf=pdfs[1], notation="77/SXD-KT", doc_type="CV")
    same_day = incoming(days_ago=5, pdf=pdfs[2], subject="Tờ trình về việc đặt tên đường")
    sent = issued()
    d = dossier(code="05.VP", title="Hồ sơ đặt tên đường năm nay", retention=20)
    for kind, doc in (("outgoing", sent), ("incoming", same_day), ("incoming", first),
                      ("incoming", oldest)):  # filed out of order on purpose
        assert file_into(api, "clerk", d["id"], kind, doc["id"]).status_code == 201
    assert api("clerk").post(f"/api/v1/records/{d['id']}/close").status_code == 200
    archive = _zip(api("leader").get(f"/api/v1/records/{d['id']}/export"))
    names = archive.namelist()
    order = [oldest, first, same_day, sent]  # by document date, then by registration
    pdf_names = [n for n in names if n.endswith(".pdf")]
    assert pdf_names == ["001_77-SXD-KT.pdf", f"002_{first['notation'].replace('/', '-')}.pdf",
                         f"003_{same_day['notation'].replace('/', '-')}.pdf",
                         f"004_{sent['notation'].replace('/', '-')}.pdf"]
    assert "metadata.xml" in names
    # Byte-identical to what each slice serves (the outgoing one: its final issued file).
    for name, doc in zip(pdf_names[:3], order[:3], strict=True):
        assert archive.read(name) == api("clerk").get(
            f"/api/v1/incoming/{doc['id']}/file").data
    assert [archive.read(n) for n in pdf_names[:3]] == [pdfs[1], pdfs[0], pdfs[2]]
    final = api("clerk").get(f"/api/v1/outgoing/{sent['id']}/file").data
    assert archive.read(pdf_names[3]) == final
    for name in pdf_names:  # and to the blob store
        data = archive.read(name)
        assert blobs.get(hashlib.sha256(data).hexdigest()) == data

    raw = archive.read("metadata.xml")
    assert raw.startswith(b"<?xml") and b"encoding='utf-8'" in raw.split(b"\n")[0].lower()
    root = ET.fromstring(raw)
    assert root.tag == "File"
    assert root.findtext("FileCode/OrganId") == world.org.code
    assert root.findtext("FileCode/FileCatalog") == str(clock.today().year)
    assert root.findtext("FileCode/FileNotation") == "05.VP"
    assert root.findtext("Title") == "Hồ sơ đặt tên đường năm nay"
    assert root.findtext("Maintenance") == "20"
    assert root.findtext("Rights") == "Công khai"
    assert root.findtext("Creator") == "Lê Thị Hoa"
    assert root.findtext("StartDate") == oldest["doc_date"]
    assert root.findtext("EndDate") == sent["doc_date"] == clock.today().isoformat()
    assert root.findtext("DocTotal") == "4"
    docs = root.findall("Documents/Document")
    pages = [int(x.findtext("PageAmount")) for x in docs]
    assert root.findtext("PageTotal") == str(sum(pages))
    assert pages[:3] == [2, 1, 3]
    assert [x.findtext("FileName") for x in docs] == pdf_names
    assert [x.get("Sequence") for x in docs] == ["1", "2", "3", "4"]
    assert all(x.findtext("Language") == "vi" for x in docs)

    o, f, s, out = docs
    assert o.findtext("CodeNumber") == "77" and o.findtext("CodeNotation") == "SXD-KT"
    assert o.findtext("TypeName") == "Công văn"
    assert o.findtext("IssuedDate") == oldest["doc_date"]
    assert o.findtext("OrganName") == "Sở Tài chính tỉnh Quảng Ngãi"
    assert o.findtext("OrganId") == ""  # not on this system
    assert o.findtext("ArrivalNumber") == str(oldest["arrival_number"])
    assert o.findtext("ArrivalDate") == oldest["arrival_date"]
    assert f.findtext("OrganName") == world.other_org.name
    assert f.findtext("OrganId") == world.other_org.code  # an organisation on this system
    assert s.findtext("Subject") == "Tờ trình về việc đặt tên đường"
    assert s.findtext("TypeName") == "Báo cáo"
    assert out.findtext("OrganId") == world.org.code
    assert out.findtext("OrganName") == world.org.name
    number, _, notation = sent["notation"].partition("/")
    assert out.findtext("CodeNumber") == number and int(number) == sent["number"]
    assert out.findtext("CodeNotation") == notation
    assert out.findtext("Subject") == sent["subject"]
    assert out.find("ArrivalNumber") is None


def test_export_of_a_classified_dossier_says_restricted(api, world, dossier, incoming):
    secret = incoming(secrecy="confidential")
    d = dossier()
    file_into(api, "clerk", d["id"], "incoming", secret["id"])  # the clerk registered it
    archive = _zip(api("clerk").get(f"/api/v1/records/{d['id']}/export"))
    root = ET.fromstring(archive.read("metadata.xml"))
    assert root.findtext("Rights") == "Hạn chế sử dụng"
    assert root.findtext("StartDate") == secret["doc_date"]


def test_export_page_download(browser_login, api, dossier, incoming):
    doc = incoming()
    d = dossier(code="07.ĐT")
    file_into(api, "clerk", d["id"], "incoming", doc["id"])
    r = browser_login("specialist").get(f"/records/{d['id']}/export")
    archive = _zip(r)
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert "ho-so-" in r.headers["Content-Disposition"] and "07.DT" in r.headers[
        "Content-Disposition"]
    assert len(archive.namelist()) == 2
