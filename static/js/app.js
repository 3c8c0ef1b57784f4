// Confirmation before irreversible actions: <form data-confirm="...">.  Also stops a double
// submit by disabling the button after the first click (the server is idempotent anyway).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  // A button marked data-no-confirm (a preview) changes nothing: no question.
  if (event.submitter && event.submitter.hasAttribute("data-no-confirm")) message = null;
  if (message && !window.confirm(message)) {
    event.preventDefault();
    return;
  }
  if (form.dataset.submitted === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  setTimeout(function () { form.dataset.submitted = ""; }, 4000);
});

// Stacked tables on a phone: label each cell with its column's heading (CSS shows the label
// under 576 px).  A cell spanning columns takes the heading of its first column.
function labelTableCells(root) {
  (root || document).querySelectorAll("main table.table:not(.no-stack)").forEach(function (table) {
    var heads = table.querySelectorAll("thead tr:first-child > th");
    if (!heads.length) return;
    var labels = [];
    heads.forEach(function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i++) labels.push(th.textContent.trim());
    });
    table.querySelectorAll("tbody > tr").forEach(function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[col] || "");
        col += parseInt(cell.getAttribute("colspan") || "1", 10);
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { labelTableCells(document); });
document.addEventListener("htmx:afterSwap", function (event) { labelTableCells(event.target.closest("main") || document); });
