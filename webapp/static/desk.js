// Order Desk keyboard shortcuts (a static file: the Content Security Policy allows no inline
// script). "/" search, j/k move between documents, Enter opens one, n/p next/previous page,
// o (or Enter on a twisty) opens or closes a category, ? lists the shortcuts. A form with data-confirm asks before it
// sends a step that cannot be undone.
(function () {
  'use strict';
  function typing(el) {
    return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('#view-pane a.doc-link, #view-pane a.twisty'));
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    list[next].focus();
    var tr = list[next].closest('tr');
    if (tr && tr.scrollIntoView) tr.scrollIntoView({block: 'nearest'});
  }
  function click(selector) {
    var el = document.querySelector(selector);
    if (el) el.click();
  }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) {
      if (e.key === 'Escape' && typing(e.target)) e.target.blur();
      return;
    }
    switch (e.key) {
      case '/': { var q = document.getElementById('q'); if (q) { e.preventDefault(); q.focus(); q.select(); } break; }
      case 'j': e.preventDefault(); move(1); break;
      case 'k': e.preventDefault(); move(-1); break;
      case 'n': click('#view-pane .pager a[rel=next]'); break;
      case 'p': click('#view-pane .pager a[rel=prev]'); break;
      case 'o': if (document.activeElement && document.activeElement.classList.contains('twisty')) document.activeElement.click(); break;
      case '?': { var help = document.getElementById('keys-help'); if (help && help.showModal && !help.open) { e.preventDefault(); help.showModal(); } break; }
      default: return;
    }
  });
  document.addEventListener('click', function (e) {
    var help = document.getElementById('keys-help');
    if (!help || !e.target) return;
    if (e.target.id === 'keys-open' && help.showModal) help.showModal();
    if (e.target.id === 'keys-close') help.close();
  });
  // A poll answered 401: the session ended. Stop the live updates and say so, with the way back.
  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr || xhr.status !== 401) return;
    Array.prototype.forEach.call(document.querySelectorAll('.live'), function (el) { el.remove(); });
    if (document.getElementById('signed-out')) return;
    var p = document.createElement('p');
    p.id = 'signed-out';
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = 'Live updates stopped: your session ended, so what you see may be out of date. ';
    var a = document.createElement('a');
    a.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
    a.textContent = 'Sign in again';
    p.appendChild(a);
    (document.getElementById('main') || document.body).prepend(p);
  });
  document.addEventListener('submit', function (e) {
    var ask = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (ask && !window.confirm(ask)) e.preventDefault();
  }, true);
})();
