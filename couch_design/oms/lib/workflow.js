// The order workflow (rules/workflow.json, embedded at deploy as lib/workflow_rules).
var wf = require('lib/workflow_rules');
var access = require('lib/access');

exports.rules = wf;

exports.transition = function (name) {
  for (var i = 0; i < wf.transitions.length; i++) {
    if (wf.transitions[i].name === name) return wf.transitions[i];
  }
  return null;
};

exports.target = function (t, oldDoc) {
  if (t.to === '$same') return oldDoc.status;  // a step that records work but keeps the state
  return t.to === '$held_from' ? oldDoc.held_from : t.to;
};

// Roles named by the transition, or the override level (a Manager may take any step: recorded).
exports.mayTake = function (t, userCtx) {
  if (access.level(userCtx) >= access.levelIndex(wf.override_level)) return true;
  for (var i = 0; i < t.roles.length; i++) {
    if ((userCtx.roles || []).indexOf(t.roles[i]) !== -1) return true;
  }
  return false;
};

// Top-level fields whose value differs between two revisions.
exports.changedFields = function (oldDoc, newDoc) {
  var seen = {}, out = [], k;
  for (k in oldDoc) seen[k] = true;
  for (k in newDoc) seen[k] = true;
  for (k in seen) {
    if (JSON.stringify(oldDoc[k]) !== JSON.stringify(newDoc[k])) out.push(k);
  }
  return out;
};
