"""RFC 3161 timestamps from the TSA named by the TIMESTAMP_URL setting (PAdES B-T).

A small client on the standard library, so that no HTTP stack is added for one POST.
"""
import asyncio
import urllib.request

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

TIMEOUT_S = 10


class HttpTimeStamper(TimeStamper):
    def __init__(self, url: str):
        super().__init__(include_nonce=True)
        self.url = url

    def _post(self, body: bytes) -> bytes:
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/timestamp-query"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if response.headers.get_content_type() != "application/timestamp-reply":
                raise TimestampRequestError("TSA answered with an unexpected content type")
            return response.read()

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            raw = await asyncio.to_thread(self._post, req.dump())
        except OSError as exc:
            raise TimestampRequestError(f"TSA unreachable: {exc}") from exc
        return tsp.TimeStampResp.load(raw)


def timestamper(url: str | None) -> TimeStamper | None:
    return HttpTimeStamper(url) if url else None
