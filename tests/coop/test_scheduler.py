from django.core.management import call_command

from coop.scheduler import periodic_jobs


def test_runscheduler_lists_periodic_jobs(capsys):
    call_command("runscheduler", "--list")
    out = capsys.readouterr().out
    for job in periodic_jobs():
        assert job.actor.actor_name in out
    assert "reclaim_expired_leases" in out and "auto_accept_due_answers" in out
