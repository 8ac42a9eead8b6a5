"""``yaji verify CERTIFICATE.json``: check a copyright certificate offline.

Needs no database: only the certificate and the log's public key (``--log-key BASE64``,
``--log-key-file PATH``, or by default the key this installation signs with). Exit status 0
when every check passes; 1 with the failing check named otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yaji.copyright import signing
from yaji.copyright.certificates import CertificateError, certificate_load, certificate_verify


class Command(BaseCommand):
    help = "Verify a copyright certificate (JSON) offline against the log's public key."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("certificate", help="Path to the certificate JSON ('-' for stdin).")
        parser.add_argument("--log-key", help="The log's Ed25519 public key, base64 (32 bytes).")
        parser.add_argument("--log-key-file", help="A file holding that base64 key.")
        parser.add_argument("--origin", help="Also require this log origin.")

    def _public_key(self, options) -> bytes:  # type: ignore[no-untyped-def]
        text = options.get("log_key")
        if options.get("log_key_file"):
            text = Path(options["log_key_file"]).read_text().strip()
        if text:
            try:
                return signing.unb64(text.strip(), size=32)
            except signing.SignatureFormatError as exc:
                raise CommandError(f"--log-key: {exc}") from exc
        from yaji.copyright.log_keys import log_public_key

        return log_public_key()

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        source = options["certificate"]
        try:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from exc
        public_key = self._public_key(options)
        try:
            verdict = certificate_verify(
                certificate_load(raw), public_key=public_key, origin=options.get("origin")
            )
        except CertificateError as exc:
            raise CommandError(f"INVALID certificate ({exc.code}): {exc}") from exc
        s = verdict.statement
        self.stdout.write(
            "VALID certificate\n"
            f"  entry        #{verdict.index} of the tree of size {verdict.tree_size}\n"
            f"  log          {verdict.origin} (checkpoint signed {verdict.checkpoint_time})\n"
            f"  root         {verdict.root_hash}\n"
            f"  work         {s['work_id']} ({s['work_kind']})\n"
            f"  content      sha256:{s['content_sha256']}\n"
            f"  author       {s['author']}\n"
            f"  registered   {s['time']}"
        )
