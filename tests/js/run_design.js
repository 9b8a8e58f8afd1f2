// Runs a compiled design document's real functions the way CouchDB does, for the unit tests.
// stdin: {"ddoc": {...}, "cases": [{"kind": "validate", "newDoc", "oldDoc", "userCtx"} |
//                                  {"kind": "map", "view": name, "doc"} |
//                                  {"kind": "reduce", "view": name, "values", "rereduce"} |
//                                  {"kind": "filter", "filter": name, "doc", "query"} |
//                                  {"kind": "call", "module": "lib/x", "fn": name, "args": [...]}]}
// stdout: one result per case: {"ok": true, ...} or {"forbidden": msg} / {"error": msg}.
// With --serve: one such request per line of stdin, its results as one line of stdout, until
// stdin ends (the test process keeps one harness instead of starting node per call).
'use strict';
var vm = require('vm');

function makeRequire(ddoc) {
  var cache = {};
  return function req(path) {
    if (cache[path]) return cache[path].exports;
    var parts = path.split('/'), node = ddoc;
    for (var i = 0; i < parts.length; i++) node = node && node[parts[i]];
    if (typeof node !== 'string') throw new Error('module not found: ' + path);
    var module = {exports: {}};
    cache[path] = module;
    vm.runInNewContext('(function (module, exports, require) {' + node + '\n})', {})(module, module.exports, req);
    return module.exports;
  };
}

function compile(src, sandbox) {
  return vm.runInNewContext('(' + src + ')', sandbox);
}

function runAll(input) {
 var ddoc = input.ddoc;
 return input.cases.map(function (c) {
  try {
    if (c.kind === 'validate') {
      compile(ddoc.validate_doc_update, {require: makeRequire(ddoc), JSON: JSON})(c.newDoc, c.oldDoc || null, c.userCtx, {});
      return {ok: true};
    }
    if (c.kind === 'map') {
      var emitted = [];
      compile(ddoc.views[c.view].map, {emit: function (k, v) { emitted.push([k, v]); }})(c.doc);
      return {ok: true, emitted: emitted};
    }
    if (c.kind === 'reduce') {
      var fn = compile(ddoc.views[c.view].reduce, {});
      return {ok: true, value: fn(c.keys || null, c.values, !!c.rereduce)};
    }
    if (c.kind === 'filter') {
      return {ok: true, value: compile(ddoc.filters[c.filter], {})(c.doc, {query: c.query || {}})};
    }
    if (c.kind === 'call') {
      return {ok: true, value: makeRequire(ddoc)(c.module)[c.fn].apply(null, c.args)};
    }
    return {error: 'unknown case kind ' + c.kind};
  } catch (e) {
    if (e && e.forbidden) return {forbidden: e.forbidden};
    return {error: String(e && e.stack || e)};
  }
 });
}

if (process.argv[2] === '--serve') {
  require('readline').createInterface({input: process.stdin}).on('line', function (line) {
    process.stdout.write(JSON.stringify(runAll(JSON.parse(line))) + '\n');
  });
} else {
  process.stdout.write(JSON.stringify(runAll(JSON.parse(require('fs').readFileSync(0, 'utf8')))));
}
