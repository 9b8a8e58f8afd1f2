"""`oms feed customers|stock FILE` applies a CRM or WMS feed as the system identity, reports the
rows it did not take, and changes nothing when run again."""
from click.testing import CliRunner

from oms.cli.main import main
from tests.fulfilment_fixtures import agent, unique  # noqa: F401


def test_the_feed_commands_apply_a_file_and_report_bad_rows(tmp_path, settings, agent, monkeypatch):
    for k, v in settings.to_env().items():
        monkeypatch.setenv(k, v)
    ext, sku = unique("CLI"), unique("CLI")
    crm = tmp_path / "crm.csv"
    crm.write_text(f"id,name,tier,credit_limit\n{ext},Cli Ltd,gold,100.00\n{unique('CLI')},Bad,tin,1\n")
    wms = tmp_path / "wms.json"
    wms.write_text(f'[{{"sku": "{sku}", "warehouse": "MAIN", "on_hand": 12}}]')
    runner = CliRunner()
    r = runner.invoke(main, ["feed", "customers", str(crm)])
    assert r.exit_code == 0, r.output
    assert "created: 1" in r.output and "row 2" in r.output and "tier must be one of" in r.output
    assert "unchanged: 1" in runner.invoke(main, ["feed", "customers", str(crm)]).output
    r = runner.invoke(main, ["feed", "stock", str(wms)])
    assert "counted: 1" in r.output, r.output
    doc = agent.db.get(f"stock:{sku}:MAIN")
    assert (doc["on_hand"], doc["updated_by"]) == (12, "oms-agent")
    assert agent.db.get(f"customer:{ext}")["updated_by"] == "oms-agent"
