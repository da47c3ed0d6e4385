"""`python -m provider` imports aiohttp with the system CA bundle loaded once (provider/__main__.py): into
the verifying context every https request uses, not into the `ssl=False` one that verifies nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: this one imported aiohttp long ago.
PROBE = """
import json, ssl
from provider.__main__ import _import_aiohttp_with_one_ca_bundle
_import_aiohttp_with_one_ca_bundle()
from aiohttp import connector
print(json.dumps({
    "verified": connector._SSL_CONTEXT_VERIFIED.cert_store_stats(),
    "verified_required": connector._SSL_CONTEXT_VERIFIED.verify_mode == ssl.CERT_REQUIRED,
    "verified_hostname": connector._SSL_CONTEXT_VERIFIED.check_hostname,
    "default": ssl.create_default_context().cert_store_stats(),
    "unverified": connector._SSL_CONTEXT_UNVERIFIED.cert_store_stats(),
    "unverified_none": connector._SSL_CONTEXT_UNVERIFIED.verify_mode == ssl.CERT_NONE,
    "patch_left": "set_default_verify_paths" in vars(ssl.SSLContext),
}))
"""


def test_the_verifying_context_loads_the_bundle_as_a_default_context_and_the_other_skips_it() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["verified"] == seen["default"]
    assert seen["verified_required"] is True and seen["verified_hostname"] is True
    assert seen["unverified"]["x509_ca"] == 0
    assert seen["unverified_none"] is True
    assert seen["patch_left"] is False
