function (doc) {
  // Notifications whose e-mail still has to go out (or whose sender stopped mid-way).
  if (doc.type !== 'notification' || !doc.mail) return;
  if (doc.mail.state === 'pending' || doc.mail.state === 'sending') emit([doc.at, doc._id], null);
}
