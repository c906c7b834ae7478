import pytest

from tests.conftest import registration_form, upload


@pytest.fixture
def registered(api, pdf_bytes):
    """An incoming document registered through the API, as its JSON."""
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                    "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    return r.json
