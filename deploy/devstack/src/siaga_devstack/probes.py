"""Readiness probes that speak the servers' own wire protocols (stdlib sockets only).

Kafka: ApiVersions v3, then Metadata v12, which lists only brokers that are registered and unfenced, so a
client connecting afterwards really gets a working broker. MongoDB wire: an OP_MSG ``hello``.
"""

from __future__ import annotations

import socket
import struct

__all__ = ["api_versions_ok", "hello_ok", "kafka_ready", "metadata_broker_count"]

_CLIENT_ID = b"siaga-devstack"


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def _kafka_call(sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes) -> bytes:
    # request header v2: api_key, api_version, correlation_id, client_id (nullable string), tagged fields
    header = struct.pack(">hhih", api_key, version, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID + b"\x00"
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _recv(sock, 4))[0]
    return _recv(sock, size)


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _api_versions(sock: socket.socket) -> bool:
    # ApiVersions v3 body: client_software_name, client_software_version (compact strings), tagged fields
    body = bytes([len(b"siaga") + 1]) + b"siaga" + bytes([len(b"1") + 1]) + b"1" + b"\x00"
    response = _kafka_call(sock, 18, 3, 7, body)
    # ApiVersions responses always use header v0 (no tagged fields): correlation_id, then error_code
    correlation_id, error_code = struct.unpack(">ih", response[:6])
    return bool(correlation_id == 7 and error_code == 0)


def _metadata_brokers(sock: socket.socket) -> int:
    # Metadata v12 body: topics = empty compact array, allow_auto_topic_creation, include_topic_authorized_ops
    response = _kafka_call(sock, 3, 12, 8, b"\x01\x00\x00\x00")
    (correlation_id,) = struct.unpack(">i", response[:4])
    if correlation_id != 8:
        return 0
    tags, pos = _uvarint(response, 4)  # response header v1: tagged fields (none expected)
    pos += 4  # throttle_time_ms
    brokers_plus_one, _ = _uvarint(response, pos)
    return max(brokers_plus_one - 1, 0) if tags == 0 else 0


def api_versions_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send ApiVersions v3 and check the broker answers with error code 0."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        return _api_versions(sock)


def metadata_broker_count(host: str, port: int, timeout: float = 2.0) -> int:
    """How many live brokers a Metadata v12 request reports."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        return _metadata_brokers(sock)


def kafka_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """ApiVersions succeeds and Metadata lists at least one (unfenced) broker; False on any socket error."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return _api_versions(sock) and _metadata_brokers(sock) >= 1
    except (OSError, struct.error, IndexError):
        return False


def _bson_hello() -> bytes:
    elements = b"\x10hello\x00" + struct.pack("<i", 1)
    elements += b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def hello_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send a MongoDB OP_MSG ``hello`` and check that an OP_MSG reply with ``ok: 1.0`` comes back."""
    try:
        body = struct.pack("<I", 0) + b"\x00" + _bson_hello()
        message = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(message)
            length, _, response_to, opcode = struct.unpack("<iiii", _recv(sock, 16))
            reply = _recv(sock, length - 16)
    except (OSError, struct.error):
        return False
    return response_to == 1 and opcode == 2013 and b"\x01ok\x00" + struct.pack("<d", 1.0) in reply
