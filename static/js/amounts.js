// What an amount or rate field understood, shown next to it while typing ("= ¥35,000,000.00"
// for "3500万").  The same rules as voucher/numbers.py, which decides on the server; this is only
// the preview.  Inputs: <input data-amount="money|rate">, echo element: #<id>-echo.
(function () {
  "use strict";
  var MULT = { "万": 10000n, "亿": 100000000n };
  var NUMBER = /^([-+]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.([0-9]+))?$/;

  function fold(text) {
    return text.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/\uFF0E/g, ".").replace(/\uFF0C/g, ",").replace(/\uFF05/g, "%").replace(/[\uFF0D\u2212]/g, "-")
      .replace(/\uFFE5/g, "¥").replace(/[\s\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]+/g, "");
  }

  // Returns {cents: BigInt} (hundredths) or null when not a number the server would take.
  function parse(raw, kind) {
    var text = fold(raw || "");
    if (!text || text.length > 40) { return null; }
    var mult = 1n;
    if (kind === "money") {
      if (text.charAt(0) === "¥") { text = text.slice(1); }
      var lower = text.toLowerCase();
      ["元", "yuan", "rmb"].some(function (u) {
        if (lower.slice(-u.length) === u) { text = text.slice(0, -u.length); return true; }
        return false;
      });
      var last = text.slice(-1);
      if (MULT[last]) { mult = MULT[last]; text = text.slice(0, -1); }
    } else if (text.slice(-1) === "%") {
      text = text.slice(0, -1);
    }
    var m = NUMBER.exec(text);
    if (!m || (!m[2] && !m[3])) { return null; }
    var whole = (m[2] || "0").replace(/,/g, ""), frac = m[3] || "";
    if (whole.replace(/^0+/, "").length + frac.length > 20) { return null; }
    // value * 100 * mult must be a whole number of hundredths
    var scaled = BigInt(whole + frac) * 100n * mult;
    var div = 10n ** BigInt(frac.length);
    if (scaled % div !== 0n) { return null; }
    var cents = scaled / div;
    return { cents: m[1] === "-" ? -cents : cents };
  }

  function show(cents, kind) {
    var neg = cents < 0n, abs = neg ? -cents : cents;
    var whole = (abs / 100n).toString(), frac = (abs % 100n).toString().padStart(2, "0");
    if (kind === "money") {
      whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      return "= " + (neg ? "-" : "") + "¥" + whole + "." + frac;
    }
    return "= " + (neg ? "-" : "") + whole + "." + frac;
  }

  function update(input) {
    var echo = document.getElementById(input.id + "-echo");
    if (!echo) { return; }
    var raw = input.value.trim();
    var parsed = parse(raw, input.getAttribute("data-amount"));
    // A plain number needs no echo; a spelling the server will refuse is said by the server.
    echo.textContent = parsed && !/^-?[0-9]+(\.[0-9]+)?$/.test(raw) ? show(parsed.cents, input.getAttribute("data-amount")) : "";
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-amount]")) { update(event.target); }
  });
  // A value already in the field when this script runs (typed while the page was still loading, or
  // put back by the browser on Back) fired its input event before anyone listened: echo it now.
  function updateAll() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-amount]"), update);
  }
  updateAll();
  window.addEventListener("pageshow", updateAll);
  window.voucherAmounts = { parse: parse, show: show };
})();

// The evaluation form: the weighted total of the scores (Σ score × weight %, rounded to 0.1 half-up,
// as voucher.calc.evaluation does) shown under the scores and in the confirmation before the final
// submit.  Inputs carry data-weight; the server computes the score that counts.
(function () {
  "use strict";
  function hundredths(text) {
    var m = /^\s*([0-9]{1,3})(?:\.([0-9]{1,2}))?\s*$/.exec(text || "");
    return m ? parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10) : null;
  }
  function total(form) {
    var inputs = form.querySelectorAll("input[data-weight]");
    if (!inputs.length) { return null; }
    var sum = 0; // in 1/1,000,000 of a point: score (1/100) × weight (1/100 %)
    for (var i = 0; i < inputs.length; i++) {
      var s = hundredths(inputs[i].value), w = hundredths(inputs[i].getAttribute("data-weight"));
      if (s === null || w === null) { return null; }
      sum += s * w;
    }
    // sum / 1e6 points; round half-up to 0.1 (= 1e5 units)
    var tenths = Math.floor((sum + 50000) / 100000);
    return (Math.floor(tenths / 10)) + "." + (tenths % 10);
  }
  function refresh(form) {
    var out = document.getElementById("weighted-total");
    var t = total(form);
    if (out) { out.textContent = t === null ? "—" : t; }
    var template = form.getAttribute("data-confirm-total");
    if (template && t !== null) { form.setAttribute("data-confirm", template.replace("{total}", t)); }
  }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && event.target.hasAttribute("data-weight")) { refresh(form); }
  });
  // Capture phase: before app.js reads data-confirm.
  document.addEventListener("submit", function (event) {
    if (event.target.querySelector && event.target.querySelector("input[data-weight]")) { refresh(event.target); }
  }, true);
  function refreshFirst() {
    var first = document.querySelector("input[data-weight]");
    if (first && first.form) { refresh(first.form); }
  }
  document.addEventListener("DOMContentLoaded", refreshFirst);
  window.addEventListener("pageshow", refreshFirst);
})();
