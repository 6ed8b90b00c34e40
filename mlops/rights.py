"""Receiver of governance's dua_rights_changed signal (governance may not import mlops; see mlops.services.rights)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from governance.signals import dua_rights_changed

logger = logging.getLogger(__name__)


@receiver(dua_rights_changed, dispatch_uid="mlops.rights_apply_for_dua")
def retire_models_on_rights_change(sender, *, dua, reason, **kwargs) -> None:
    from .services.rights import rights_apply_for_dua

    try:
        with transaction.atomic():  # a savepoint: a failure here never undoes the agreement's change
            rights_apply_for_dua(dua=dua)
    except Exception:  # the predict API and the hourly sweep enforce the same rules
        logger.exception("Could not apply the rights change of DUA %s (%s) to models", dua.pk, reason)
