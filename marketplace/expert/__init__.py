"""Expert work on fair terms (issue 13): qualifications, accuracy that counts, member-voted rate cards, bonuses.

Modules: models (qualifications and their tests, grants, nominations, rate-card rates, accuracy holds,
bonuses); qualifications (tests taken as paid work, grants by test or by vote, signed export);
eligibility (the rules a claim and the feed call directly: qualifications, languages, gold accuracy,
the expert rate); rate_cards (members' votes on minimum hourly pay per skill); accuracy (holds and their
appeal); bonuses (client bonuses through the ledger); governance (effects of decided proposals);
selectors, apis, views.
"""
