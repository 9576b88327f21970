// The resource table of the census HTML report: decodes the embedded data (gzip JSON
// in base64, see report/html/table.rs), then filters, sorts and draws only the rows in
// view, so that 500,000 resources stay responsive. No request leaves the page.
(async function () {
  "use strict";
  var ROW = 28, OVERSCAN = 10;
  var COLS = ["type", "id", "name", "account", "region", "arn", "tags"];
  var body = document.body;
  // Counted for the tests (and anyone curious): blocked requests and script errors.
  document.addEventListener("securitypolicyviolation", function () {
    body.dataset.cspViolations = String(Number(body.dataset.cspViolations || 0) + 1);
  });
  window.addEventListener("error", function () {
    body.dataset.errors = String(Number(body.dataset.errors || 0) + 1);
  });
  var status = document.getElementById("table-status");
  var tbody = document.getElementById("rows");
  var table = document.getElementById("resource-table");
  var scroller = document.getElementById("scroller");
  var input = document.getElementById("filter");
  var accountSelect = document.getElementById("account-filter");
  var D;
  try {
    var bin = atob(document.getElementById("census-data").textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    D = JSON.parse(await new Response(stream).text());
  } catch (e) {
    status.textContent = "The resource table could not be read: " + e;
    body.dataset.ready = "error";
    return;
  }
  var n = D.t.length;
  var accountLabels = D.accounts.map(function (a) { return a[1] ? a[1] + " (" + a[0] + ")" : a[0]; });
  // An ARN's resource part (`subnet-0abc` of `arn:...:subnet/subnet-0abc`): the id
  // column of resources whose id is their ARN.
  function tail(arn) {
    var slash = arn.lastIndexOf("/");
    return slash >= 0 ? arn.slice(slash + 1) : arn.slice(arn.lastIndexOf(":") + 1);
  }
  function cell(col, i) {
    switch (col) {
      case "type": return D.types[D.t[i]];
      case "id": return D.id[i] || tail(D.arn[i]);
      case "name": return D.name[i];
      case "account": return accountLabels[D.a[i]];
      case "region": return D.regions[D.r[i]];
      case "arn": return D.arn[i];
      default: return D.tagsets[D.g[i]];
    }
  }
  // Lower-cased text of each row: built in slices once the table is drawn (so that
  // the first keystroke does not pay for it), or at once if a search comes first.
  var hay = new Array(n);
  var hayDone = 0;
  function hayRow(i) {
    return (D.types[D.t[i]] + "\t" + D.id[i] + "\t" + D.name[i] + "\t" + accountLabels[D.a[i]] + "\t" +
      D.regions[D.r[i]] + "\t" + D.arn[i] + "\t" + D.tagsets[D.g[i]]).toLowerCase();
  }
  function haystack() {
    for (; hayDone < n; hayDone++) hay[hayDone] = hayRow(hayDone);
    body.dataset.indexed = "true";
    return hay;
  }
  function haySlice() {
    var end = Math.min(n, hayDone + 20000);
    for (; hayDone < end; hayDone++) hay[hayDone] = hayRow(hayDone);
    if (hayDone < n) setTimeout(haySlice, 0);
    else body.dataset.indexed = "true";
  }
  var order = null; // row indexes in sort order (null: as stored)
  var sortCol = null, sortDir = 1;
  var view = new Uint32Array(0);
  var viewLength = 0;
  // What the current view was filtered with: a search that only adds to it (longer
  // words, more words, the same account and order) filters the view, not every row.
  var last = null;

  function narrows(prev, words, acct) {
    if (!prev || prev.acct !== acct || prev.order !== order) return false;
    if (words.length < prev.words.length) return false;
    for (var w = 0; w < prev.words.length; w++) {
      if (words[w].indexOf(prev.words[w]) < 0) return false;
    }
    return true;
  }

  function applyFilter() {
    var t0 = performance.now();
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var acct = accountSelect.value === "" ? -1 : Number(accountSelect.value);
    var h = words.length ? haystack() : null;
    var from, count;
    if (narrows(last, words, acct)) {
      from = view;
      count = viewLength;
    } else {
      from = order;
      count = n;
    }
    var out = new Uint32Array(count);
    var k = 0;
    for (var j = 0; j < count; j++) {
      var i = from ? from[j] : j;
      if (acct >= 0 && D.a[i] !== acct) continue;
      var ok = true;
      for (var w = 0; w < words.length; w++) {
        if (h[i].indexOf(words[w]) < 0) { ok = false; break; }
      }
      if (ok) out[k++] = i;
    }
    view = out;
    viewLength = k;
    last = { words: words, acct: acct, order: order };
    var ms = performance.now() - t0;
    status.textContent = "Showing " + k.toLocaleString("en") + " of " + n.toLocaleString("en") + " resources";
    status.dataset.shown = String(k);
    status.dataset.filterMs = ms.toFixed(1);
    table.setAttribute("aria-rowcount", String(k + 1));
    scroller.scrollTop = 0;
    render();
  }

  function spacer(height) {
    var tr = document.createElement("tr");
    tr.className = "spacer";
    tr.setAttribute("aria-hidden", "true");
    var td = document.createElement("td");
    td.colSpan = COLS.length;
    td.style.height = height + "px";
    tr.appendChild(td);
    return tr;
  }

  function render() {
    var top = scroller.scrollTop;
    var height = scroller.clientHeight || 480;
    var start = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    var end = Math.min(viewLength, Math.ceil((top + height) / ROW) + OVERSCAN);
    var frag = document.createDocumentFragment();
    if (start > 0) frag.appendChild(spacer(start * ROW));
    for (var k = start; k < end; k++) {
      var i = view[k];
      var tr = document.createElement("tr");
      tr.setAttribute("aria-rowindex", String(k + 2));
      for (var c = 0; c < COLS.length; c++) {
        var td = document.createElement("td");
        var text = cell(COLS[c], i);
        td.textContent = text;
        if (text) td.title = text;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    if (end < viewLength) frag.appendChild(spacer((viewLength - end) * ROW));
    tbody.replaceChildren(frag);
  }

  function sortBy(col) {
    if (sortCol === col) {
      sortDir = -sortDir;
    } else {
      sortCol = col;
      sortDir = 1;
    }
    // Columns of a few values (type, account, region) sort by the rank of their value,
    // a number; the others by their lower-cased text.
    var dict = { type: [D.types, D.t], account: [accountLabels, D.a], region: [D.regions, D.r] }[col];
    var keys = new Array(n);
    var i;
    if (dict) {
      var values = dict[0], codes = dict[1];
      var byText = values.map(function (v, x) { return [v.toLowerCase(), x]; })
        .sort(function (p, q) { return p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0; });
      var rank = new Array(values.length);
      byText.forEach(function (p, r) { rank[p[1]] = r; });
      for (i = 0; i < n; i++) keys[i] = rank[codes[i]];
    } else {
      for (i = 0; i < n; i++) keys[i] = cell(col, i).toLowerCase();
    }
    var idx = new Uint32Array(n);
    for (i = 0; i < n; i++) idx[i] = i;
    var dir = sortDir;
    order = idx.sort(function (x, y) {
      var a = keys[x], b = keys[y];
      return a < b ? -dir : a > b ? dir : x - y;
    });
    var ths = table.querySelectorAll("thead th");
    for (var t = 0; t < ths.length; t++) {
      ths[t].setAttribute("aria-sort", ths[t].dataset.col === col ? (dir > 0 ? "ascending" : "descending") : "none");
    }
    applyFilter();
  }

  // The account list of the filter.
  D.accounts
    .map(function (a, i) { return [accountLabels[i], i]; })
    .sort(function (x, y) { return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0; })
    .forEach(function (p) {
      var o = document.createElement("option");
      o.value = String(p[1]);
      o.textContent = p[0];
      accountSelect.appendChild(o);
    });

  // `#account=ID` (the organization tree's links) and `#q=TEXT` set the filters.
  function fromHash() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf("account=") === 0) {
      var id = h.slice(8);
      var found = D.accounts.findIndex(function (a) { return a[0] === id; });
      accountSelect.value = found >= 0 ? String(found) : "";
      applyFilter();
      document.getElementById("resources").scrollIntoView();
      return true;
    }
    if (h.indexOf("q=") === 0) {
      input.value = h.slice(2);
      applyFilter();
      return true;
    }
    return false;
  }

  input.addEventListener("input", applyFilter);
  accountSelect.addEventListener("change", applyFilter);
  var ticking = false;
  scroller.addEventListener("scroll", function () {
    if (ticking) return;
    ticking = true;
    requestAnimationFrame(function () { ticking = false; render(); });
  });
  table.querySelectorAll("thead button").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b.parentNode.dataset.col); });
  });
  window.addEventListener("hashchange", fromHash);
  document.getElementById("filter-form").addEventListener("submit", function (e) { e.preventDefault(); });
  if (!fromHash()) applyFilter();
  body.dataset.ready = "true";
  setTimeout(haySlice, 0);
})();
