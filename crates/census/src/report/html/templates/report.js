// The resource table of the census HTML report: decodes the embedded data (gzip JSON
// in base64, see report/html/table.rs), then filters, sorts and draws only the rows in
// view, so that 500,000 resources stay responsive. An account chosen (`#account=ID`,
// the organization tree's links, or the table's account list) narrows every section
// below the tree to it: the heatmap, regions and types are counted from the rows, the
// problems and changes rows are those carrying its id. No request leaves the page.
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
  // Said before the table's count (a link to an account the scan does not have).
  var notice = "";

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
    status.textContent = notice + "Showing " + k.toLocaleString("en") + " of " + n.toLocaleString("en") + " resources";
    status.dataset.shown = String(k);
    table.setAttribute("aria-rowcount", String(k + 1));
    scroller.scrollTop = 0;
    render();
    // The filter's time, drawing the rows included (for the benchmark).
    status.dataset.filterMs = (performance.now() - t0).toFixed(1);
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

  // ---- One account's view of the sections below the organization tree. ----
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function byId(id) { return document.getElementById(id); }
  function each(sel, f) { Array.prototype.forEach.call(document.querySelectorAll(sel), f); }
  function plural(k, one) { return k.toLocaleString("en") + " " + one + (k === 1 ? "" : "s"); }
  // Counts, largest first (ties by name): [[name, count], ...].
  function ranked(map) {
    return Object.keys(map).map(function (k) { return [k, map[k]]; })
      .sort(function (x, y) { return y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0); });
  }
  // The account's resources by service, region and type, from the rows.
  function counts(acct) {
    var t = new Uint32Array(D.types.length), r = new Uint32Array(D.regions.length), total = 0;
    for (var i = 0; i < n; i++) {
      if (D.a[i] === acct) { t[D.t[i]]++; r[D.r[i]]++; total++; }
    }
    var svc = {}, types = {}, regions = {};
    for (var x = 0; x < t.length; x++) {
      if (!t[x]) continue;
      var sv = D.services[D.ts[x]];
      svc[sv] = (svc[sv] || 0) + t[x];
      types[D.types[x]] = (types[D.types[x]] || 0) + t[x];
    }
    for (x = 0; x < r.length; x++) if (r[x]) regions[D.regions[x]] = r[x];
    return { total: total, services: ranked(svc), types: ranked(types), regions: ranked(regions) };
  }
  function heatTable(acct, c) {
    var max = c.services.length ? c.services[0][1] : 1;
    var t = el("table", { "class": "heat", "aria-labelledby": "heatmap-h" });
    var hr = el("tr");
    hr.appendChild(el("th", { scope: "col" }, "Account"));
    c.services.forEach(function (p) { hr.appendChild(el("th", { scope: "col", "class": "num" }, p[0])); });
    hr.appendChild(el("th", { scope: "col", "class": "num" }, "Total"));
    t.appendChild(el("thead")).appendChild(hr);
    var tr = el("tr", { "data-account": D.accounts[acct][0] });
    var th = el("th", { scope: "row" }, D.accounts[acct][1] || D.accounts[acct][0]);
    if (D.accounts[acct][1]) { th.appendChild(document.createTextNode(" ")); th.appendChild(el("span", { "class": "muted" }, D.accounts[acct][0])); }
    tr.appendChild(th);
    c.services.forEach(function (p) {
      tr.appendChild(el("td", { "class": "num h" + (1 + Math.round(p[1] / max * 4)), "data-service": p[0] }, String(p[1])));
    });
    tr.appendChild(el("td", { "class": "num total" }, String(c.total)));
    t.appendChild(el("tbody")).appendChild(tr);
    return t;
  }
  // Bars as report/html/charts.rs draws them.
  function bars(items) {
    var NS = "http://www.w3.org/2000/svg";
    var labelW = 150, barW = 420, rowH = 22, w = labelW + barW + 80, h = rowH * items.length + 4;
    var max = Math.max(1, items.length ? items[0][1] : 1);
    function svgEl(tag, attrs, text) {
      var e = document.createElementNS(NS, tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      return e;
    }
    var svg = svgEl("svg", { "class": "bars", role: "img", "aria-labelledby": "bars-title-one", width: w, height: h, viewBox: "0 0 " + w + " " + h });
    svg.appendChild(svgEl("title", { id: "bars-title-one" }, "Resources of the account by region"));
    items.forEach(function (p, i) {
      var y = i * rowH + 2, bw = Math.max(1, p[1] / max * barW);
      var g = svgEl("g", { "data-region": p[0] });
      g.appendChild(svgEl("title", {}, p[0] + ": " + p[1]));
      g.appendChild(svgEl("text", { x: labelW - 6, y: y + 14, "text-anchor": "end" }, p[0]));
      g.appendChild(svgEl("rect", { x: labelW, y: y, width: bw.toFixed(1), height: rowH - 6, "class": "bar" }));
      g.appendChild(svgEl("text", { x: (labelW + bw + 6).toFixed(1), y: y + 14, "class": "n" }, String(p[1])));
      svg.appendChild(g);
    });
    return svg;
  }
  function typesTable(c) {
    var t = el("table", { "class": "types", "aria-labelledby": "types-h" });
    var hr = el("tr");
    hr.appendChild(el("th", { scope: "col" }, "Type"));
    hr.appendChild(el("th", { scope: "col", "class": "num" }, "Resources"));
    t.appendChild(el("thead")).appendChild(hr);
    var tb = t.appendChild(el("tbody"));
    c.types.forEach(function (p) {
      var tr = el("tr", { "data-type": p[0] });
      tr.appendChild(el("td", {}, p[0]));
      tr.appendChild(el("td", { "class": "num" }, String(p[1])));
      tb.appendChild(tr);
    });
    return t;
  }
  function show(id, on) { var e = byId(id); if (e) e.hidden = !on; }
  function fill(id, node) { var e = byId(id); if (e) e.replaceChildren(node); }
  // Remembers an element's content as the page wrote it (for "show all").
  var written = new Map();
  function keep(e) { if (!written.has(e)) written.set(e, e.innerHTML); }
  function restore(e) { if (written.has(e)) e.innerHTML = written.get(e); }

  // The account shown (index into D.accounts), or -1 for all.
  var scope = -1;
  function setScope(acct) {
    scope = acct;
    var id = acct >= 0 ? D.accounts[acct][0] : null;
    var one = acct >= 0;
    body.dataset.account = id || "";
    byId("scope").hidden = !one;
    each("li.acct", function (li) {
      if (li.dataset.account === id) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
    });
    // Resources: counted from the rows.
    show("heat-all", !one); show("heat-one", one);
    show("regions-all", !one); show("regions-one", one);
    show("types-all", !one); show("types-one", one);
    if (one) {
      var c = counts(acct);
      byId("scope-text").textContent = "Showing account " + accountLabels[acct] + ": " +
        plural(c.total, "resource") + ".";
      fill("heat-one", c.total ? heatTable(acct, c) : el("p", {}, "No resources in this account."));
      fill("regions-one", c.total ? bars(c.regions) : el("p", {}, "No resources in this account."));
      fill("types-one", c.total ? typesTable(c) : el("p", {}, "No resources in this account."));
    }
    // Problems: the account's rows; failed calls counted from the data (a group's
    // table lists only its first rows).
    var problems = 0;
    each("#account-problems .problem", function (g) {
      var rows = g.querySelectorAll("tr[data-account]"), k = 0;
      for (var r = 0; r < rows.length; r++) {
        var mine = !one || rows[r].dataset.account === id;
        rows[r].hidden = !mine;
        if (mine) k++;
      }
      g.hidden = k === 0;
      problems += k;
      var count = g.querySelector(".g-count");
      keep(count);
      if (one) count.textContent = "this account"; else restore(count);
    });
    var groups = {};
    (D.calls || []).forEach(function (g) { groups[g.code] = g.by; });
    each("#call-problems .problem", function (g) {
      var mine = one ? (groups[g.dataset.code] || {})[id] : null;
      var k = mine ? mine[0] : 0, listed = 0;
      g.querySelectorAll("tr.failed-call").forEach(function (tr) {
        tr.hidden = one && tr.dataset.account !== id;
        if (!tr.hidden) listed++;
      });
      g.hidden = one && k === 0;
      if (one) problems += k;
      var count = g.querySelector(".g-count"), regions = g.querySelector(".g-regions");
      var moreAll = g.querySelector(".g-more-all"), moreOne = g.querySelector(".g-more-one");
      keep(count); keep(regions);
      if (moreAll) moreAll.hidden = one;
      if (one && k) {
        count.textContent = plural(k, "call") + " in this account";
        regions.textContent = mine[1].join(", ");
        moreOne.hidden = listed >= k;
        moreOne.textContent = "and " + (k - listed) + " more: census query \"SELECT * FROM calls WHERE scan_id = '" +
          body.dataset.scan + "' AND error_code = '" + g.dataset.code + "' AND account_id = '" + id + "'\"";
      } else {
        restore(count); restore(regions);
        moreOne.hidden = true;
      }
    });
    show("account-problems", !one || !!document.querySelector("#account-problems .problem:not([hidden])"));
    show("call-problems", !one || !!document.querySelector("#call-problems .problem:not([hidden])"));
    show("problems-none-one", one && problems === 0);
    show("problems-none", !one);
    // Changes: the account's rows; its totals from the counts by account and type.
    var sums = [0, 0, 0];
    each("tr.change-count", function (tr) {
      var mine = !one || tr.dataset.account === id;
      tr.hidden = !mine;
      if (mine) for (var x = 0; x < 3; x++) sums[x] += Number(tr.cells[2 + x].textContent);
    });
    var listedChanges = 0;
    each("tr.change", function (tr) {
      tr.hidden = one && tr.dataset.account !== id;
      if (!tr.hidden) listedChanges++;
    });
    [["ch-added", "+"], ["ch-removed", "\u2212"], ["ch-changed", "~"]].forEach(function (p, x) {
      var dd = byId(p[0]);
      if (!dd) return;
      keep(dd);
      if (one) dd.textContent = p[1] + sums[x];
      else restore(dd);
    });
    var total = sums[0] + sums[1] + sums[2];
    show("changes-detail", !one || total > 0);
    show("changes-none-one", one && total === 0 && !!byId("ch-added"));
    show("changes-more-all", !one);
    show("changes-none", !one);
    var more = byId("changes-more-one");
    if (more) {
      more.hidden = !one || listedChanges >= total;
      more.textContent = "and " + (total - listedChanges) + " more changes in this account: census diff " +
        document.querySelector("main").dataset.against + " " + body.dataset.scan + " lists them all.";
    }
    // The resource table.
    accountSelect.value = one ? String(acct) : "";
    applyFilter();
  }

  function hashParams() {
    var p = {};
    location.hash.slice(1).split("&").forEach(function (kv) {
      var eq = kv.indexOf("=");
      if (eq > 0) p[kv.slice(0, eq)] = decodeURIComponent(kv.slice(eq + 1));
    });
    return p;
  }
  // The URL of the view: `#account=ID` (and `q=TEXT` when the table is filtered by words).
  function writeHash() {
    var parts = [];
    if (scope >= 0) parts.push("account=" + encodeURIComponent(D.accounts[scope][0]));
    if (input.value) parts.push("q=" + encodeURIComponent(input.value));
    var h = parts.length ? "#" + parts.join("&") : "";
    if (h !== location.hash) history.replaceState(null, "", h || location.pathname + location.search);
  }

  // `#account=ID` (the organization tree's links) and `#q=TEXT` set the view.
  function fromHash() {
    var p = hashParams();
    if (p.q !== undefined) input.value = p.q;
    var acct = -1;
    if (p.account !== undefined) {
      acct = D.accounts.findIndex(function (a) { return a[0] === p.account; });
      notice = acct < 0 ? "No account " + p.account + " in this scan (the link is of another scan?): showing every account. " : "";
    } else {
      notice = "";
    }
    setScope(acct);
    return p.account !== undefined || p.q !== undefined;
  }

  byId("scope-clear").addEventListener("click", function () {
    setScope(-1);
    writeHash();
    byId("distribution-h").focus();
  });
  accountSelect.addEventListener("change", function () {
    setScope(accountSelect.value === "" ? -1 : Number(accountSelect.value));
    writeHash();
  });
  window.addEventListener("hashchange", function () {
    var p = hashParams();
    fromHash();
    if (p.account !== undefined) {
      byId("scope").focus({ preventScroll: true });
      byId("distribution").scrollIntoView();
    }
  });
  input.addEventListener("input", function (e) {
    applyFilter();
    // From the keystroke to the frame that shows its rows (for the benchmark).
    var at = e.timeStamp;
    requestAnimationFrame(function () {
      setTimeout(function () {
        status.dataset.frameMs = (performance.now() - at).toFixed(1);
        status.dataset.keys = String(Number(status.dataset.keys || 0) + 1);
      }, 0);
    });
  });
  var ticking = false;
  scroller.addEventListener("scroll", function () {
    if (ticking) return;
    ticking = true;
    requestAnimationFrame(function () { ticking = false; render(); });
  });
  table.querySelectorAll("thead button").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b.parentNode.dataset.col); });
  });
  document.getElementById("filter-form").addEventListener("submit", function (e) { e.preventDefault(); });
  fromHash();
  if (scope >= 0) byId("distribution").scrollIntoView();
  body.dataset.ready = "true";
  setTimeout(haySlice, 0);
})();
