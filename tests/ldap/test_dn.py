"""Distinguished names (RFC 4514): parsing, escaping and normal forms."""

from __future__ import annotations

import pytest

from ldapbridge.ldap import dn


class TestParse:
    def test_simple_dn(self):
        """Each RDN becomes a tuple of (type, value) pairs, in order."""
        assert dn.parse("uid=alex,ou=people,dc=example,dc=com") == (
            (("uid", "alex"),),
            (("ou", "people"),),
            (("dc", "example"),),
            (("dc", "com"),),
        )

    def test_empty_dn_is_the_root(self):
        """The empty string (and spaces alone) is the root DSE's DN."""
        assert dn.parse("") == ()
        assert dn.parse("   ") == ()

    def test_spaces_around_separators_are_ignored(self):
        """Spaces around `,`, `=` and `+` are not part of types or values."""
        assert dn.parse(" cn = Alex Demo , dc = com ") == (
            (("cn", "Alex Demo"),),
            (("dc", "com"),),
        )

    def test_semicolon_separates_rdns(self):
        """The older `;` separator (RFC 1779) is read like `,`."""
        assert dn.parse("cn=a;dc=com") == dn.parse("cn=a,dc=com")

    def test_multi_valued_rdn(self):
        """`+` joins several attribute values into one RDN."""
        assert dn.parse("cn=Alex+uid=alex,dc=com") == (
            (("cn", "Alex"), ("uid", "alex")),
            (("dc", "com"),),
        )

    def test_oid_attribute_type(self):
        """A numeric OID is a valid attribute type."""
        assert dn.parse("0.9.2342.19200300.100.1.25=com") == (
            (("0.9.2342.19200300.100.1.25", "com"),),
        )

    def test_equals_sign_in_a_value_needs_no_escape(self):
        """RFC 4514 allows `=` unescaped inside a value."""
        assert dn.parse("cn=a=b,dc=com") == ((("cn", "a=b"),), (("dc", "com"),))

    def test_value_may_be_empty(self):
        """An attribute value may be the empty string."""
        assert dn.parse("cn=,dc=com") == ((("cn", ""),), (("dc", "com"),))


class TestEscapes:
    @pytest.mark.parametrize(
        "text", ["uid=tomas\\+print", "uid=tomas\\2bprint", "uid=tomas\\2Bprint"]
    )
    def test_plus_escaped_as_pair_or_hex_in_either_case(self, text):
        """`\\+`, `\\2b` and `\\2B` all stand for a literal `+`."""
        assert dn.parse(text) == ((("uid", "tomas+print"),),)

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("cn=Nguyen\\, Van An", "Nguyen, Van An"),
            ("cn=a\\\\b", "a\\b"),
            ('cn=say \\"hi\\"', 'say "hi"'),
            ("cn=\\<tag\\>", "<tag>"),
            ("cn=semi\\;colon", "semi;colon"),
            ("cn=\\#hash", "#hash"),
            ("cn=\\ lead", " lead"),
            ("cn=trail\\ ", "trail "),
            ("cn=a\\=b", "a=b"),
        ],
    )
    def test_escaped_special_characters(self, text, value):
        """Each escaped special character stands for itself."""
        assert dn.parse(text) == ((("cn", value),),)

    def test_multibyte_utf8_hex_escapes(self):
        """`\\c3\\a9` is é: hex escapes are UTF-8 bytes, decoded together."""
        assert dn.parse("cn=Ren\\c3\\a9") == ((("cn", "René"),),)

    def test_multibyte_hex_escapes_in_upper_case(self):
        """`\\E5\\B1\\B1\\E7\\94\\B0` is 山田, whatever the hex letters' case."""
        assert dn.parse("cn=\\E5\\B1\\B1\\e7\\94\\b0") == ((("cn", "山田"),),)

    def test_hex_escapes_mixed_with_raw_text(self):
        """Escaped bytes and raw characters join into one value."""
        assert dn.parse("cn=Bj\\C3\\B6rn H\\c3\\a5kansson") == (
            (("cn", "Björn Håkansson"),),
        )

    def test_raw_non_ascii_is_kept(self):
        """Unescaped UTF-8 text is a valid value (RFC 4514 3)."""
        assert dn.parse("cn=Дмитрий Иванов") == ((("cn", "Дмитрий Иванов"),),)

    def test_unescaped_trailing_spaces_are_dropped(self):
        """Spaces before a separator are not part of the value."""
        assert dn.parse("cn=Alex   ,dc=com")[0] == (("cn", "Alex"),)

    def test_hex_string_value_is_the_ber_encoded_string(self):
        """`#` values (RFC 4514 2.4) are BER-encoded strings, decoded to text."""
        assert dn.parse("cn=#0403414243") == ((("cn", "ABC"),),)
        assert dn.parse("cn=#0C0B4B6574746C65204C616273") == ((("cn", "Kettle Labs"),),)

    def test_hex_string_value_differs_from_its_digits(self):
        """`cn=#0403414243` does not equal the text "0403414243"."""
        assert dn.normalize("cn=#0403414243") != dn.normalize("cn=0403414243")


class TestInvalid:
    @pytest.mark.parametrize(
        "text",
        [
            "example.com",
            "dc=example,,dc=com",
            "dc=example,",
            ",dc=com",
            "=value",
            "dc",
            "uid=a\\zz,dc=com",
            "cn=a\\",
            'cn=say "hi"',
            "cn=<tag>",
            "cn=a\x00b",
            "cn=\\c3",
            "cn=\\ff\\fe",
            "ü=x",
            "cn=#041",
            "cn=#0402414243",
            "cn=#0203010001",
            "cn=#0403414243xyz",
        ],
    )
    def test_invalid_dn_raises(self, text):
        """Text that is not a DN raises InvalidDN (which becomes result 34)."""
        with pytest.raises(dn.InvalidDN):
            dn.parse(text)

    def test_invalid_dn_message_says_where(self):
        """The message points at the fault, for the client's diagnostic."""
        with pytest.raises(
            dn.InvalidDN, match="expected an attribute type at ',dc=com'"
        ):
            dn.parse("dc=example,,dc=com")


class TestEscapeValue:
    @pytest.mark.parametrize(
        ("value", "escaped"),
        [
            ("tomas+print@example.org", "tomas\\+print@example.org"),
            ("Nguyen, Van An", "Nguyen\\, Van An"),
            ('a"b\\c<d>e;f=g', 'a\\"b\\\\c\\<d\\>e\\;f\\=g'),
            ("#1", "\\#1"),
            ("a#1", "a#1"),
            (" lead", "\\ lead"),
            ("trail ", "trail\\ "),
            ("in side", "in side"),
            ("line\nbreak", "line\\0abreak"),
            ("nul\x00", "nul\\00"),
            ("山田 太郎", "山田 太郎"),
        ],
    )
    def test_escape_value(self, value, escaped):
        """Special characters are escaped as RFC 4514 2.4 says, others kept."""
        assert dn.escape_value(value) == escaped

    @pytest.mark.parametrize(
        "value",
        ["tomas+print@example.org", ' #"odd", <value>; \\ ', "Émile Zola-Petit", "a=b"],
    )
    def test_escaped_value_parses_back_to_itself(self, value):
        """parse(escape_value(v)) gives v back."""
        assert dn.parse(f"cn={dn.escape_value(value)}") == ((("cn", value),),)

    def test_format_dn_round_trips(self):
        """format_dn of a parsed DN parses to the same RDNs."""
        rdns = dn.parse("cn=a\\2bb+uid=x\\2c y,ou=People,dc=example,dc=com")
        assert dn.parse(dn.format_dn(rdns)) == rdns
        assert dn.format_dn(rdns) == "cn=a\\+b+uid=x\\, y,ou=People,dc=example,dc=com"


class TestNormalize:
    def test_types_and_values_are_case_folded(self):
        """UID=Alex,DC=Example equals uid=alex,dc=example."""
        assert dn.normalize("UID=Alex,DC=Example") == "uid=alex,dc=example"

    def test_spaces_are_collapsed(self):
        """Runs of spaces inside values and around separators do not count."""
        assert dn.normalize(" cn = Alex    Demo ,  dc=com") == "cn=alex demo,dc=com"

    def test_escaped_forms_normalise_alike(self):
        """`\\+`, `\\2b` and `\\2B` give one normal form, which escapes `+`."""
        forms = {
            dn.normalize(f"uid=TOMAS{e}print@example.org")
            for e in ("\\+", "\\2b", "\\2B")
        }
        assert forms == {"uid=tomas\\+print@example.org"}

    def test_multibyte_escape_equals_raw_text(self):
        """cn=Ren\\C3\\A9 and cn=RENÉ have the same normal form."""
        assert dn.normalize("cn=Ren\\C3\\A9") == dn.normalize("cn=RENÉ")

    def test_multi_valued_rdn_order_does_not_matter(self):
        """cn=a+uid=b equals uid=b+cn=a."""
        assert dn.normalize("cn=a+uid=b,dc=com") == dn.normalize("UID=b+CN=a,dc=com")

    def test_root_normalises_to_empty(self):
        """The root DSE's DN normalises to the empty string."""
        assert dn.normalize("") == ""

    def test_normalize_raises_for_invalid(self):
        """normalize raises InvalidDN like parse."""
        with pytest.raises(dn.InvalidDN):
            dn.normalize("not a dn")

    def test_fold_value_is_case_ignore_form(self):
        """fold_value case-folds (ß becomes ss) and collapses spaces."""
        assert dn.fold_value("  Straße   Nord ") == "strasse nord"
