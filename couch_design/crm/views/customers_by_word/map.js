function (doc) {
  // Order entry's customer search: a profile under its CRM id and under each word of its name,
  // lower case, so that typing "acm" or "c00" finds it by key prefix as the clerk types.
  if (doc.type !== 'customer') return;
  var id = doc._id.slice('customer:'.length);
  var value = {id: id, name: doc.name, tier: doc.tier || null, currency: doc.currency || 'EUR',
               credit_hold: !!doc.credit_hold};
  var seen = {};
  var words = [id.toLowerCase()].concat(String(doc.name).toLowerCase().split(/[^a-z0-9äöüßéèàçñ]+/));
  for (var i = 0; i < words.length; i++) {
    if (words[i] && !seen[words[i]]) {
      seen[words[i]] = true;
      emit(words[i], value);
    }
  }
}
