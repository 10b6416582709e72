"""ldapbridge: a coworking space's members, served to PaperCut over LDAP."""

__version__ = "0.1.0"
