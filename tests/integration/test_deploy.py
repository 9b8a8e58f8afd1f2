"""Design documents are files compiled and pushed by deploy: idempotent, and a changed view is
staged and its index built before the swap."""
import copy

from couch_design import deploy


def test_redeploying_an_unchanged_design_writes_nothing(admin_db, settings):
    before = admin_db.get("_design/oms")["_rev"]
    outcome = deploy.deploy(admin_db, progress=lambda *_: None, namespace=settings.namespace)
    assert outcome["_design/oms"] == "unchanged"
    assert outcome["_security"] == "unchanged"
    assert admin_db.get("_design/oms")["_rev"] == before


def test_the_deployed_design_embeds_the_rulebook(admin_db):
    ddoc = admin_db.get("_design/oms")
    assert "module.exports" in ddoc["lib"]["workflow_rules"]
    assert '"submit"' in ddoc["lib"]["workflow_rules"]
    assert ddoc["validate_doc_update"].startswith("function")


def test_a_changed_view_is_staged_built_and_swapped(server, settings):
    db = server.admin(settings.db_name + "_deploytest")
    db.create()
    compiled = deploy.compile_design(deploy.HERE / "oms")
    assert deploy.push(db, compiled) == "created"
    db.save({"_id": "customer:X1", "type": "customer", "name": "X"})
    changed = copy.deepcopy(compiled)
    changed["views"]["orders_by_number"]["map"] = changed["views"]["orders_by_number"]["map"].replace(
        "// All orders by number.", "// All orders by number (v2).")
    steps = []
    assert deploy.push(db, changed, progress=steps.append) == "updated"
    assert any("building index" in s for s in steps), "the new view was not built before the swap"
    assert db.get_or_none("_design/oms-staging") is None, "the staging design was left behind"
    assert "(v2)" in db.get("_design/oms")["views"]["orders_by_number"]["map"]
    assert deploy.push(db, changed) == "unchanged"


def test_security_names_every_level_from_depositor_as_member(admin_db, settings):
    sec, ns = admin_db.get_security(), settings.namespace
    assert ns.role("level:depositor") in sec["members"]["roles"]
    assert ns.role("level:no_access") not in sec["members"]["roles"]
    assert sec["admins"]["roles"] == ns.roles(["level:manager", "level:designer"])


def test_a_retired_design_document_is_removed_with_its_validation(server, settings):
    # A database deployed before keeps a design document the project no longer ships: its
    # validate_doc_update would go on refusing writes the current rules allow.
    db = server.admin(settings.db_name + "_retiretest")
    deploy.deploy(db, progress=lambda *_: None, namespace=settings.namespace)
    retired = deploy.RETIRED[0]
    db.save({"_id": retired, "language": "javascript", "validate_doc_update":
             "function (newDoc) { if (newDoc.type === 'customer') throw({forbidden: 'old rules'}); }"})
    outcome = deploy.deploy(db, progress=lambda *_: None, namespace=settings.namespace)
    assert outcome[retired] == "removed" and db.get_or_none(retired) is None
    db.save({"_id": "customer:R1", "type": "customer", "name": "R"})   # no longer judged by the retired rules
    assert retired not in deploy.deploy(db, progress=lambda *_: None, namespace=settings.namespace)
