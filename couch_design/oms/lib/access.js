// Notes ACL on CouchDB: a person's level and roles travel in userCtx.roles ("level:editor",
// "[Sales]"), put there when the app mirrors the person into _users (rules/acl.json).
var acl = require('lib/acl_rules');

exports.levelIndex = function (name) {
  return acl.levels.indexOf(name);
};

exports.isAdmin = function (userCtx) {
  return (userCtx.roles || []).indexOf('_admin') !== -1;
};

// Highest level named in the person's roles; server admins count as Manager.
exports.level = function (userCtx) {
  var best = 0, roles = userCtx.roles || [], prefix = acl.level_role_prefix;
  if (exports.isAdmin(userCtx)) return acl.levels.indexOf('manager');
  for (var i = 0; i < roles.length; i++) {
    if (roles[i].indexOf(prefix) === 0) {
      best = Math.max(best, acl.levels.indexOf(roles[i].slice(prefix.length)));
    }
  }
  return best;
};

exports.levelTitle = function (index) {
  return acl.level_titles[acl.levels[index]];
};

// True when the person (by name) or one of their roles is listed (a Notes Readers/Authors field).
exports.isNamedIn = function (userCtx, list) {
  if (!list) return false;
  for (var i = 0; i < list.length; i++) {
    if (list[i] === userCtx.name || (userCtx.roles || []).indexOf(list[i]) !== -1) return true;
  }
  return false;
};

// Notes: a document with a Readers field is seen only by those in its Readers or Authors fields.
exports.mayRead = function (userCtx, doc) {
  if (!doc.readers || doc.readers.length === 0) return true;
  return exports.isNamedIn(userCtx, doc.readers) || exports.isNamedIn(userCtx, doc.authors);
};
