"""axe-core (tests/browser/vendor/axe.min.js, axe-core 4.14.1 from the npm registry, MPL-2.0) on the key pages, in Chromium.

No serious or critical violation is allowed on the pages members, stewards and clients use most.
"""

from pathlib import Path

import pytest

from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`);
        }"""
    )
    return violations


def _check(page, paths):
    found = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert found == {}, "\n".join(f"{path}:\n  " + "\n  ".join(v) for path, v in found.items())


def _setup():
    from governance import services as governance

    organization = factories.make_organization("Axe Labs")
    project = factories.make_project(organization, tasks=2, title="Read the codes")
    factories.make_project(organization, task_type="classification", tasks=1, title="Sentiment")
    member = factories.make_member("axe-member@example.org")
    steward = factories.make_steward("axe-steward@example.org", with_totp=False)
    client = factories.make_client_user(organization)
    proposal = governance.proposal_draft(author=member, kind="general_motion", title="Open the books", body="Monthly.")
    governance.comment_post(proposal=proposal, author=member, body="Let us **discuss**.")
    return {"member": member, "steward": steward, "client": client, "project": project, "proposal": proposal}


def test_member_pages_have_no_serious_accessibility_violations(page):
    data = in_thread(_setup)
    sign_in(page, data["member"].email, factories.PASSWORD)
    _check(
        page,
        [
            "/dashboard/",
            "/work/",
            f"/work/projects/{data['project'].pk}/",
            "/work/earnings/",
            "/work/records/",
            "/governance/",
            f"/governance/proposals/{data['proposal'].pk}/",
            "/governance/proposals/new/?kind=general_motion",
            "/governance/proxies/",
            "/membership/",
        ],
    )
    page.goto(f"/work/projects/{data['project'].pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    assert serious_violations(page) == []


def test_client_console_has_no_serious_accessibility_violations(page):
    data = in_thread(_setup)
    sign_in(page, data["client"].email, factories.PASSWORD)
    _check(
        page,
        [
            "/dashboard/",
            "/client/",
            "/client/projects/new/",
            f"/client/projects/{data['project'].pk}/",
            f"/client/projects/{data['project'].pk}/webhooks/",
            "/client/money/",
            "/client/agreements/",
            "/client/models/",
        ],
    )


def test_the_check_catches_a_serious_violation(page):
    """The harness itself: an unlabeled button and an image without alt text are reported."""
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"><button></button></main></body></html>')
    found = " ".join(serious_violations(page))
    assert "button-name" in found and "image-alt" in found
