"""`frontline serve --tls`: a self-signed certificate for trying Frontline on a phone on the same
network, kept in FRONTLINE_DATA_DIR/tls, with its SHA-256 fingerprint and the LAN address to open.
For development and demonstrations only: a real deployment uses the trust's certificate (deploy/)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 365
RENEW_WITHIN_DAYS = 30


@dataclass(frozen=True)
class DevCertificate:
    certificate: Path
    key: Path
    fingerprint: str  # SHA-256, colon-separated hex, as phones and browsers show it
    addresses: tuple[str, ...]


def lan_address() -> str | None:
    """This machine's address on its local network: the source address the system would use to
    reach another network. Connecting a UDP socket sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


def fingerprint(certificate: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in certificate.fingerprint(hashes.SHA256()))


def _covers(certificate: x509.Certificate, addresses: set[str]) -> bool:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    held = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    fresh = certificate.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(
        days=RENEW_WITHIN_DAYS
    )
    return fresh and addresses <= held


def ensure_certificate(data_dir: Path, extra_addresses: tuple[str, ...] = ()) -> DevCertificate:
    """The certificate in data_dir/tls, made again only when missing, near its end, or not naming
    this machine's current address (a phone would refuse it)."""
    directory = data_dir / "tls"
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "frontline-dev-cert.pem", directory / "frontline-dev-key.pem"
    wanted = {"127.0.0.1", *extra_addresses}
    lan = lan_address()
    if lan:
        wanted.add(lan)
    if cert_path.exists() and key_path.exists():
        existing = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if _covers(existing, wanted):
            return DevCertificate(cert_path, key_path, fingerprint(existing), tuple(sorted(wanted)))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"Frontline development ({socket.gethostname()})"
            ),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "Frontline (self-signed, not for production)"
            ),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    alternative_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted(wanted)]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        # A CA certificate for itself: iOS and Android let a user trust it as a root, which is what
        # a service worker (offline use) needs; Chrome will not register one behind a warning.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_path.touch(mode=0o600)
    key_path.chmod(0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return DevCertificate(cert_path, key_path, fingerprint(certificate), tuple(sorted(wanted)))
