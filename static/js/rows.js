// "Add a row" without a round trip: clone the last row of [data-rows=NAME], give its fields the
// next index (NAME-<n>-field) and clear them.  Without JavaScript the button submits the form
// with action=add_row and the server adds the row.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-add-row]");
  if (!button) { return; }
  var name = button.getAttribute("data-add-row");
  var body = document.querySelector('[data-rows="' + name + '"]');
  if (!body) { return; }
  var rows = body.querySelectorAll("[data-row]");
  if (!rows.length) { return; }
  event.preventDefault();
  var max = -1;
  rows.forEach(function (row) { max = Math.max(max, parseInt(row.getAttribute("data-row"), 10) || 0); });
  var index = max + 1;
  var pattern = new RegExp("^" + name + "-\\d+-");
  var clone = rows[rows.length - 1].cloneNode(true);
  clone.setAttribute("data-row", String(index));
  clone.querySelectorAll("input, select, textarea, label").forEach(function (el) {
    ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
      var value = el.getAttribute(attr);
      if (value) { el.setAttribute(attr, value.replace(pattern, name + "-" + index + "-")); }
    });
    if (el.tagName !== "LABEL") {
      if (el.type === "checkbox") { el.checked = false; } else { el.value = ""; }
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
    }
  });
  clone.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  clone.querySelectorAll("[data-row-number]").forEach(function (el) { el.textContent = String(rows.length + 1); });
  body.appendChild(clone);
  var first = clone.querySelector("input, select");
  if (first) { first.focus(); }
});
