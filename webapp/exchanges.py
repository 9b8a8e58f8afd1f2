"""The replication page's words: each replication (replication/status.py) as the desk sees it,
an exchange of orders with a partner or a branch office. Who, which way, whether it is up to date,
when it last exchanged changes, how many wait, and what went wrong in a sentence with what to do.
The server's own names for its machinery (its replicator, checkpoints, sequences, filters) stay
with IT support and `oms replicate status`."""
from __future__ import annotations

from dataclasses import dataclass

from replication.status import State

# The server's states, as the desk says them; tone: the colour of the badge (app.css .tone-*).
STATES = {"initializing": ("Starting", "busy"), "pending": ("Starting", "busy"),
          "crashing": ("Retrying after a problem", "bad"), "error": ("Retrying after a problem", "bad"),
          "failed": ("Stopped", "bad"), "completed": ("Finished", "ok"), "unreachable": ("Cannot reach", "bad")}


@dataclass
class Exchange:
    who: str                  # "Acme", "the Berlin branch"
    way: str                  # "Sending our changes to Acme"
    status: str               # "Up to date", "Catching up", ...
    tone: str                 # ok, busy, bad
    last: str | None          # when it last exchanged changes (as the server last reported)
    waiting: str              # "Nothing waiting", "12 changes waiting", "Not known right now"
    problem: str | None       # what went wrong, in a sentence
    advice: str | None        # what to do about it
    restart: str | None       # the replication a Manager may restart from the page (partners only)

    @property
    def confirm(self) -> str:
        return (f"Restart the exchange with {self.who} now? It stops and starts again from the last "
                "change both sides hold; nothing is lost. This cannot be undone.")


def describe(st: State, titles: dict[str, str]) -> Exchange:
    """One replication as the page shows it; `titles`: the partners' names by id."""
    if st.kind == "partner":
        who = titles.get(st.name) or st.name.title()
        way = f"Sending our changes to {who}" if st.direction == "push" else f"Receiving changes from {who}"
    else:
        who = f"the {st.name.title()} branch"
        way = f"Sending our changes to {who}" if st.direction == "push" else f"Receiving changes from {who}"
    status, tone = STATES.get(st.state, ("Not known", "busy"))
    if st.state == "running":
        status, tone = (("Up to date", "ok") if st.pending == 0 else
                        ("Catching up", "busy") if st.pending else ("Exchanging changes", "ok"))
    elif st.state == "unreachable":
        status = f"Cannot reach {who}"
    if st.pending is None:
        waiting = "Not known right now"
    else:
        waiting = ("Nothing waiting" if st.pending == 0 else
                   f"{st.pending:,} change{'s' if st.pending != 1 else ''} waiting")
    problem, advice = _problem(st, who)
    return Exchange(who, way, status, tone, st.updated, waiting, problem, advice,
                    st.id if st.kind == "partner" else None)


def _problem(st: State, who: str) -> tuple[str | None, str | None]:
    if st.state == "unreachable":
        return (f"The server of {who} does not answer.",
                "Nothing is lost: the changes wait and go across once it answers again. If this lasts, "
                f"check the connection to {who} or call IT support.")
    if st.state in ("crashing", "error", "failed"):
        return ("The exchange stopped because of an error on the server.",
                "A Manager can restart it here; if it stops again, call IT support." if st.kind == "partner"
                else "The branch's own server runs this exchange: call IT support there.")
    if st.refusal:
        n = st.failures or 1
        return (f"{n:,} change{'s' if n != 1 else ''} from {who} {'were' if n != 1 else 'was'} refused; "
                f"the latest because: {st.refusal}",
                f"The desk keeps its own version of those orders; ask {who} to correct them.")
    if st.failures:
        return (f"{st.failures:,} change{'s' if st.failures != 1 else ''} could not be written.",
                "Call IT support: they can see which ones and why.")
    return None, None
