"""A person signing in on many requests at once (an API client's first burst) is mirrored into
_users once; the other requests find the mirror instead of failing with 409."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from oms.identity import people
from oms.identity.acl import Access


@pytest.mark.parametrize("burst", range(5))   # (on a cluster the losing creates' deletions race the winner: several bursts)
def test_concurrent_first_sign_ins_mirror_the_person_once(server, settings, burst):
    access = Access(f"newbie-{uuid.uuid4().hex[:6]}", "author", ("[Sales]",))
    with ThreadPoolExecutor(20) as pool:
        written = list(pool.map(lambda _: people.mirror(server, settings.secret_key, access, namespace=settings.namespace), range(20)))
    assert written.count(True) == 1
    users = server.admin("_users")
    doc = users.get(settings.namespace.user_id(access.name))
    assert doc["roles"] == settings.namespace.roles(["level:author", "[Sales]"])
    assert len([leaf for leaf in users.leaves(doc["_id"]) if not leaf.get("_deleted")]) == 1
