"""Signals governance sends to the apps above it (which may not be imported from here).

`dua_rights_changed(sender=DataUseAgreement, dua=..., reason=...)` is sent,
inside the transaction that made the change, when the rights under a
data-use agreement change: a new version became active (an amendment: it may
grant less, e.g. no longer `train_models` or `publish_trained_models`;
reason "activated") or the client attested deletion (reason
"deletion_attested"). mlops retires or restricts the models trained on that
data. Receivers must not raise: they run in their own savepoint.
"""

from django.dispatch import Signal

dua_rights_changed = Signal()
