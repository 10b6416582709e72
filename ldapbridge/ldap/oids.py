"""Object identifiers of the controls and operations the server speaks."""

PAGED_RESULTS = "1.2.840.113556.1.4.319"  # RFC 2696
MANAGE_DSA_IT = "2.16.840.1.113730.3.4.2"  # RFC 3296
WHOAMI = "1.3.6.1.4.1.4203.1.11.3"  # RFC 4532
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"  # RFC 4511 4.4.1
START_TLS = "1.3.6.1.4.1.1466.20037"  # RFC 4511 4.14

# Controls honoured, or safely ignored: ManageDsaIT only changes how
# referral objects are treated, and this tree holds none.
SUPPORTED_CONTROLS = (PAGED_RESULTS, MANAGE_DSA_IT)
SUPPORTED_EXTENSIONS = (WHOAMI, START_TLS)
