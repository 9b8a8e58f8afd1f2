function (doc) {
  // The agents' log, newest last.
  if (doc.type !== 'agent_run') return;
  emit([doc.started_at, doc._id], {agent: doc.agent, finished_at: doc.finished_at || null,
    touched: (doc.touched || []).length, errors: (doc.errors || []).length, by: doc.by});
}
