"""The client console's OCR models page: the models an organization may use, a "try it" upload, usage and billing.

No model runs here: entitlement, image checks and funds come before it (the ML tests run real models).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mlops.services import inference
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import labelled_project, registered_version

pytestmark = pytest.mark.django_db


def test_client_sees_its_models_and_usage_and_try_it_refuses_what_it_cannot_read(client, steward):
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[labelled_project(org_a, 3)]), promoted=True)
    inference.usage_record(organization=org_a, version=version, count=7)

    client.force_login(factories.make_client_user(org_a))
    page = client.get("/client/models/").content.decode()
    assert page.count('data-testid="entitled-model"') == 1 and f"{version.name} v{version.version}" in page
    assert 'data-testid="usage-row"' in page and "<td>7</td>" in page
    response = client.post("/client/models/", {"image": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")})
    assert response.status_code == 400 and "not a readable image" in response.content.decode()

    client.force_login(factories.make_client_user(org_b))
    page = client.get("/client/models/").content.decode()
    assert 'data-testid="no-models"' in page and 'data-testid="usage-row"' not in page


def test_adversarial_a_client_cannot_try_another_organizations_model(client, steward):
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[labelled_project(org_a, 3)]), promoted=True)
    import base64

    from tests.mlops.conftest import captcha_b64

    png = base64.b64decode(captcha_b64("1234"))
    client.force_login(factories.make_client_user(org_b))
    response = client.post("/client/models/", {"image": SimpleUploadedFile("c.png", png, content_type="image/png"), "version": version.pk})
    assert response.status_code == 400 and 'data-testid="try-error"' in response.content.decode()
    assert not version.usage.exists()


def test_members_do_not_reach_the_client_models_page(client, member):
    client.force_login(member)
    assert client.get("/client/models/").status_code == 403
