"""The portable benefits fund: a member-voted share of every co-op fee, paid out on members' claims by members' rules.

Where the money is: a `benefits` ledger account per currency (marketplace/ledger).
Every posting with a co-op fee line (earnings, top-ups, model dividends) posts,
in the same database transaction, the fund's share of that fee (policy
`benefits_share_of_fee`, founding 20 %) as its own transaction with the event
key "benefits:<fee's event key>" (ledger.services.benefits_share_post); an
approved claim is paid benefits → the member's available earnings, event key
"benefit:claim:<id>", never beyond the fund's balance.

Modules: models (claims and their private evidence), rules (the policies
read as numbers: eligibility, a day's pay, yearly limits, who decides),
services (file, decide, pay the queue), selectors (reads: my claims, what I
must decide, the fund's public figures, a member's contributions record),
governance_effects (a panel's or the members' vote decides a claim), views
and apis (HTTP only).
"""
