"""The co-op's earnings ledger: exact, double-entry and append-only. All money moves through it.

Sign convention
---------------
Every `LedgerEntry.amount` is a signed Decimal: a DEBIT is positive, a CREDIT is
negative, and the entries of one `LedgerTransaction` sum to exactly zero per
currency. Nothing stores a balance: a balance is always the sum of an
account's entries. (One shortcut: a project escrow, spent from at every
accepted answer, keeps a checkpoint of that sum on its locked row so a
payment adds only the entries since; every posting to an escrow takes its
row lock, which keeps the checkpoint exact. See services.spendable_balance.)

`coop_bank` is the one asset account (the real money the co-op holds, debit
normal). Every other kind is money the co-op owes or has earned (credit
normal): what a client deposited, a project's escrow, a worker's payable
earnings, a requested payout, the co-op's fees, the dividend pool. The
selectors report balances on the account's normal side, so in a healthy
ledger every balance is >= 0, and

    coop_bank == client_cash + project_escrow + worker_earnings
                 + worker_payout_pending + coop_fees + dividend_pool + benefits

(assets = liabilities + equity), which is the same statement as "the trial
balance is zero".

Money moves (A -> B means A is debited, B credited; see services.py):

    deposit         coop_bank (+)           client_cash (-)
    escrow_fund     client_cash (+)         project_escrow (-)
    earning/top_up  project_escrow (+)      worker_earnings (-), coop_fees (-)
    payout_request  worker_earnings (+)     worker_payout_pending (-)
    payout_paid     worker_payout_pending (+) coop_bank (-)
    payout_cancel   worker_payout_pending (+) worker_earnings (-)
    refund          project_escrow (+)      client_cash (-)
    benefits_share  coop_fees (+)           benefits (-)     posted with every fee (services.benefits_share_post)
    benefit_payout  benefits (+)            worker_earnings (-)  an approved claim (marketplace/benefits)

Modules: models (accounts, transactions, entries, payouts, payout destinations);
posting (amounts, fees, accounts, ledger_post, account locks); services (every
business move: deposits, escrow, earnings and top-ups, data dividends; it
re-exports posting); payouts (the payout workflow) and payout_destinations
(where a member is paid, and the hold after a change); selectors (the books'
reads); admin (read-only).
"""
