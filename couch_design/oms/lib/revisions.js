// Revision arithmetic for validate_doc_update. ES5, no dependencies (also used by the partner
// and site design documents).

exports.pos = function (rev) {
  return parseInt(String(rev || '').split('-')[0], 10) || 0;
};

// How many revisions this write adds on top of oldDoc (or since the document was created, when
// there is no oldDoc): 1 for an ordinary write. A replicated write (new_edits=false) brings its
// whole path in _revisions and is validated against the first ancestor the database holds, so a
// partner's two edits of one order arrive as one write two revisions ahead of oldDoc, and an
// order first seen at revision 3 arrives with three revisions at once.
exports.steps = function (newDoc, oldDoc) {
  if (!newDoc._revisions || typeof newDoc._revisions.start !== 'number') return 1;
  var n = newDoc._revisions.start - (oldDoc ? exports.pos(oldDoc._rev) : 0);
  return n > 1 ? n : 1;
};

// JSON with sorted keys: two bodies are equal whatever order their fields were written in.
function canon(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  var keys = Object.keys(v).sort(), out = [];
  for (var i = 0; i < keys.length; i++) {
    if (v[keys[i]] !== undefined) out.push(JSON.stringify(keys[i]) + ':' + canon(v[keys[i]]));
  }
  return '{' + out.join(',') + '}';
}
exports.canon = canon;

// True when two revisions hold the same document (revision bookkeeping aside).
exports.sameBody = function (a, b) {
  var strip = function (d) {
    var out = {};
    for (var k in d) {
      if (k !== '_rev' && k !== '_revisions' && k !== '_conflicts' && k !== '_deleted_conflicts') out[k] = d[k];
    }
    return out;
  };
  return canon(strip(a)) === canon(strip(b));
};
