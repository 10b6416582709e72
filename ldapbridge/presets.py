"""Presets: the mapping of the generic HTTP source for each named platform.

Each preset is config text in data form, section by section, exactly as an
operator could write it for ``type = http``; whatever the config file sets
itself wins (README, "Configuration").  Field names and endpoints follow the
platforms' API responses (DESIGN.md, "Coworking platforms").
"""

from __future__ import annotations

Preset = dict[str, dict[str, str]]

# Nexudus: password grant at /api/token (a 7-day token), page/size paging up
# to 1000 a page, HTTP 409 with Retry-After when throttled, 120 requests a
# minute.
NEXUDUS: Preset = {
    "source": {
        "auth": "password_grant",
        "token_path": "/api/token",
        "rate_per_minute": "120",
        "retry_statuses": "409, 429, 500, 502, 503, 504",
    },
    "source.members": {
        "path": "/api/spaces/coworkers",
        "records": "Records",
        "paging": "page",
        "page_param": "page",
        "size_param": "size",
        "page_size": "1000",
        "has_more": "HasNextPage",
        "total": "TotalItems",
        "changed_since_param": "from_Coworker_UpdatedOn",
    },
    "source.fields": {
        "member_id": "Id",
        "full_name": "FullName",
        "email": "Email",
        "company": "CompanyName",
        "teams": "TeamNames",
        "teams_transform": "split(,)",
        "location": "InvoicingBusinessName",
        "card": "AccessCardId | KeyFobNumber",
        "pin": "AccessPincode",
        "active": "Active and !Archived",
    },
    "source.password_check": {
        "path": "/api/token",
        "format": "form",
        "fields": "grant_type=password&username={email}&password={password}",
        "valid_statuses": "200",
        "invalid_statuses": "400, 401, 403",
    },
}

# OfficeRnD Flex: client credentials (a 1-hour token), cursor paging of at
# most 50, the member's company as an id to look up.
_OFFICERND_PAGING = {
    "records": "results",
    "paging": "cursor",
    "cursor": "cursorNext",
    "cursor_param": "$cursorNext",
    "size_param": "$limit",
    "page_size": "50",
}
OFFICERND: Preset = {
    "source": {
        "auth": "client_credentials",
        "token_path": "/oauth/token",
        "token_scope": "flex.community.members.read flex.community.companies.read",
        "rate_per_minute": "60",
    },
    "source.members": {
        "path": "/api/v2/organizations/{organization}/members",
        **_OFFICERND_PAGING,
        "changed_since_param": "modifiedAt[$gte]",
    },
    "source.lookup.companies": {
        "path": "/api/v2/organizations/{organization}/companies",
        **_OFFICERND_PAGING,
        "key": "_id",
        "value": "name",
    },
    "source.fields": {
        "member_id": "_id",
        "full_name": "name",
        "email": "email",
        "company": "company",
        "company_lookup": "companies",
        "card": "properties.print_card",
        "pin": "properties.print_pin",
        "active": "status = active",
    },
    "source.password_check": {
        "path": "/auth/signin",
        "format": "json",
        "fields": "email={email}&password={password}",
        "valid_statuses": "200",
        "invalid_statuses": "400, 401, 403",
    },
}

# Cobot: a space's bearer token, one unpaged array of memberships (at most
# 6 requests a minute), cards as check-in tokens pointing at memberships.
COBOT: Preset = {
    "source": {"auth": "bearer", "rate_per_minute": "60"},
    "source.members": {
        "path": "/api/memberships",
        "paging": "none",
        "rate_per_minute": "6",
    },
    "source.lookup.check_in_tokens": {
        "path": "/api/check_in_tokens",
        "paging": "none",
        "key": "membership.id",
        "value": "token",
    },
    "source.fields": {
        "member_id": "id",
        "full_name": "name | address.name",
        "email": "email | user.email",
        "company": "address.company",
        "plan": "plan.name",
        "card": "id",
        "card_lookup": "check_in_tokens",
        "active": "!canceled_to or canceled_to >= today",
    },
}

# Optix: GraphQL, page/limit paging with a total.
OPTIX_USERS_QUERY = (
    "query Users($limit: Int!, $page: Int!) { users(limit: $limit, page: $page) "
    "{ total data { user_id name surname fullname email is_active is_deleted "
    "company teams { team_id name } properties { property value } } } }"
)
OPTIX: Preset = {
    "source": {"auth": "bearer", "rate_per_minute": "60"},
    "source.members": {
        "path": "/graphql",
        "graphql": OPTIX_USERS_QUERY,
        "records": "data.users.data",
        "paging": "page",
        "page_param": "page",
        "size_param": "limit",
        "page_size": "100",
        "total": "data.users.total",
    },
    "source.fields": {
        "member_id": "user_id",
        "full_name": "fullname | name + surname",
        "given_name": "name",
        "surname": "surname",
        "email": "email",
        "company": "company",
        "teams": "teams.*.name",
        "card": "properties[property=Print card].value",
        "active": "is_active and !is_deleted",
    },
}

PRESETS: dict[str, Preset] = {
    "nexudus": NEXUDUS,
    "officernd": OFFICERND,
    "cobot": COBOT,
    "optix": OPTIX,
}
