"""Member password hashes and service secrets."""

from __future__ import annotations

import argon2
import pytest

from ldapbridge.directory.passwords import hash_password, verify_hash, verify_secret
from tests import demo
from tests.support import DEMO_CSV


def alex_hash() -> str:
    with DEMO_CSV.open(encoding="utf-8") as f:
        (line,) = [ln for ln in f if ln.startswith("M-2001,")]
    return line.strip().rsplit(",", 1)[1]


class TestVerifyHash:
    def test_bcrypt_hash_from_the_demo_export(self):
        """Alex Demo's bcrypt hash accepts alex-demo-pw and nothing else."""
        hashed = alex_hash()
        assert verify_hash(demo.ALEX_PASSWORD, hashed) is True
        assert verify_hash("alex-demo-PW", hashed) is False

    def test_argon2_hash(self):
        """An argon2id hash in the export works as well as bcrypt."""
        hashed = argon2.PasswordHasher().hash("print-pw")
        assert verify_hash("print-pw", hashed) is True
        assert verify_hash("print-pw ", hashed) is False

    @pytest.mark.parametrize(
        ("password", "hashed"),
        [
            ("", "$2b$10$x9uKKTOUnrIHoTVlUj/XA.XPdiNCfbrIDVZpCPmT8IdqzhhTqTqUy"),
            ("plain", "plain"),
            ("x", ""),
            ("x", "$2b$broken"),
            ("x", "$argon2id$broken"),
            ("x", "{SSHA}abcdef"),
        ],
    )
    def test_never_verifies(self, password, hashed):
        """Empty passwords, plain text, empty or broken hashes never verify."""
        assert verify_hash(password, hashed) is False


class TestVerifySecret:
    def test_plain_secret(self):
        """A plain configured secret compares exactly."""
        assert verify_secret("papercut-demo", "papercut-demo") is True
        assert verify_secret("papercut-Demo", "papercut-demo") is False

    def test_hashed_secret(self):
        """A configured bcrypt hash (from hash_password) verifies its password."""
        hashed = hash_password("s3cret")
        assert hashed.startswith("$2b$")
        assert verify_secret("s3cret", hashed) is True
        assert verify_secret("s3cre", hashed) is False

    def test_long_secret_is_hashed_with_argon2id(self):
        """A password past bcrypt's 72 bytes gets an argon2id hash that verifies."""
        hashed = hash_password("é" * 37)
        assert hashed.startswith("$argon2id$")
        assert verify_secret("é" * 37, hashed) is True
        assert verify_secret("é" * 36, hashed) is False

    def test_empty_password_never_matches(self):
        """Even an empty configured secret does not accept an empty password."""
        assert verify_secret("", "") is False
