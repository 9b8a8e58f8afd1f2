"""The replication page's words for what the server reports: who, which way, whether it is up to
date, and what went wrong with what to do, never the server's own names for its machinery."""
import re

from replication.status import State
from webapp.exchanges import describe

INTERNAL = re.compile(r"_replicator|checkpoint|\bseq\b|triggered|filter|oms-partner|http|[{}]|push|pull", re.I)


def state(**kw) -> State:
    base = dict(id="oms-partner-acme-pull", kind="partner", name="acme", direction="pull",
                source="http://127.0.0.1:5984/partner_acme", target="http://127.0.0.1:5984/orders",
                state="running", pending=0)
    return State(**{**base, **kw})


def words(x) -> str:
    return " ".join(str(v) for v in (x.who, x.way, x.status, x.waiting, x.problem, x.advice, x.confirm) if v)


def test_an_exchange_says_who_which_way_and_whether_it_is_up_to_date():
    x = describe(state(), {"acme": "Acme Trading"})
    assert (x.way, x.status, x.waiting, x.problem) == ("Receiving changes from Acme Trading", "Up to date",
                                                      "Nothing waiting", None)
    x = describe(state(direction="push", pending=12), {})
    assert (x.way, x.status, x.waiting) == ("Sending our changes to Acme", "Catching up", "12 changes waiting")
    assert "cannot be undone" in x.confirm and x.restart == "oms-partner-acme-pull"


def test_what_went_wrong_is_a_sentence_with_what_to_do():
    down = describe(state(state="unreachable", pending=None,
                          errors=["the source server http://10.0.0.1:5984 does not answer; retrying"]), {})
    assert down.status == "Cannot reach Acme" and "does not answer" in down.problem and "Nothing is lost" in down.advice
    refused = describe(state(failures=2, refusal="This order is restricted to its readers.",
                             errors=["2 change(s) refused by the centre; latest: ..."]), {"acme": "Acme Trading"})
    assert refused.problem == ("2 changes from Acme Trading were refused; the latest because: "
                               "This order is restricted to its readers.")
    crashed = describe(state(state="crashing", errors=['{"error": "db_not_found"}']), {})
    assert crashed.status == "Retrying after a problem" and "restart" in crashed.advice
    site = describe(state(kind="site", name="berlin", direction="push", state="unreachable"), {})
    assert site.way == "Sending our changes to the Berlin branch" and site.restart is None
    for x in (down, refused, crashed, site):
        assert not INTERNAL.search(words(x)), words(x)
