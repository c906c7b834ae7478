// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Selects marked data-autosubmit apply their filter at once.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });

  // "/" focuses the filter box; Ctrl+Enter submits the form being edited.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    var typing = tag === "input" || tag === "textarea" || tag === "select";
    if (event.key === "/" && !typing) {
      var box = document.querySelector("[data-hotkey='/']");
      if (box) { event.preventDefault(); box.focus(); }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // Warn the clerk before saving when the same document is already registered.
  var form = document.querySelector("[data-duplicate-check]");
  if (form) {
    var warning = document.getElementById("duplicate-warning");
    var latest = 0;  // only the answer to the newest question may change the warning
    var check = function () {
      var asked = ++latest;
      var sender = form.elements.sender.value.trim();
      var notation = form.elements.notation.value.trim();
      var docDate = form.elements.doc_date.value;
      if (!sender || !notation || !docDate) { warning.hidden = true; return; }
      var url = form.dataset.duplicateCheck + "?" + new URLSearchParams(
        {sender: sender, notation: notation, doc_date: docDate});
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (body) {
          if (asked !== latest) return;
          if (!body.duplicate) { warning.hidden = true; return; }
          warning.textContent = "";
          warning.append(body.duplicate.message);
          // No link to a classified document the clerk may not open (no url is sent).
          if (body.duplicate.url) {
            var link = document.createElement("a");
            link.href = body.duplicate.url;
            link.textContent = "Mở văn bản đã vào sổ";
            warning.append(" ", link);
          }
          warning.hidden = false;
        }).catch(function () { if (asked === latest) warning.hidden = true; });
    };
    ["sender", "notation", "doc_date"].forEach(function (name) {
      form.elements[name].addEventListener("change", check);
    });
  }
})();
