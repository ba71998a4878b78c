"""Hand-built multipart bodies, so that tests control every byte of a hostile upload."""
from __future__ import annotations

import socket

BOUNDARY = "bots-test-boundary-7MA4YWxkTrZu0gW"


def multipart_body(filename, content: bytes, field: str = "file", extra_disposition: str = ""):
    """``(body, content_type)`` of a form with one file part; ``filename=None`` leaves the
    plain ``filename`` parameter out."""
    disposition = f'form-data; name="{field}"'.encode()
    if filename is not None:
        disposition += b'; filename="' + filename.encode("utf-8", "surrogatepass") + b'"'
    if extra_disposition:
        disposition += b"; " + extra_disposition.encode()
    body = (b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + disposition +
            b"\r\nContent-Type: text/plain\r\n\r\n" + content +
            b"\r\n--" + BOUNDARY.encode() + b"--\r\n")
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def send_partial(port: int, body: bytes, content_type: str, sent: int) -> socket.socket:
    """Starts a POST /api/v1/files announcing the whole body but sending only ``sent`` bytes;
    returns the open socket (closing it cuts the upload off)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: " + content_type.encode() + b"\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:sent])
    return sock


def upload(srv, name, content: bytes, query: str = ""):
    """POST /api/v1/files of one file through a ServerProcess."""
    body, content_type = multipart_body(name, content)
    return srv.post(f"/api/v1/files{query}", data=body, headers={"Content-Type": content_type})
