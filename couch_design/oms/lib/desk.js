// A desk that shares its server with other desks reaches CouchDB with its people's names and
// roles prefixed ("<desk>~alice", "<desk>~level:editor"; oms/core/namespace.py). Every
// validate_doc_update first takes the prefix off, so the rules, Readers and Authors fields and
// history speak the desk's own names; a name or role without the prefix is a stranger's, and
// counts for nothing here. lib/desk_namespace (written at deploy) holds the prefix.
exports.local = function (userCtx) {
  var prefix = require('lib/desk_namespace').prefix;
  if (!prefix) return userCtx;
  var given = userCtx.roles || [], roles = [], name = userCtx.name, admin = false;
  for (var i = 0; i < given.length; i++) {
    if (given[i] === '_admin') { roles.push(given[i]); admin = true; }
    else if (typeof given[i] === 'string' && given[i].indexOf(prefix) === 0) roles.push(given[i].slice(prefix.length));
  }
  if (name && name.indexOf(prefix) === 0) return {db: userCtx.db, name: name.slice(prefix.length), roles: roles};
  // Somebody else's person: none of their roles count here, whatever they are called.
  return admin ? {db: userCtx.db, name: name, roles: ['_admin']} : {db: userCtx.db, name: null, roles: []};
};
