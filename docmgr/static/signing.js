// The signing pages: place the signature box on a page image, and show progress while
// the server signs. Loaded only by /outgoing/<id>/sign and /outgoing/sign-batch.
// Positions are PDF points, origin bottom-left, pages from 1 (what the server expects).
(function () {
  "use strict";

  var box = document.getElementById("signature-box");
  var form = document.getElementById("sign-form");
  if (box && form) {
    var boxW = parseFloat(box.dataset.w);
    var boxH = parseFloat(box.dataset.h);
    var minX = parseFloat(box.dataset.minX) || 0;
    var sealMark = box.querySelector(".sig-box-seal");
    var seal = parseFloat(box.dataset.seal);
    if (sealMark && seal) {  // where the organisation's seal will go (ND30 ô 8)
      sealMark.style.width = (seal / boxW * 100) + "%";
      sealMark.style.left = ((boxW / 3 - seal) / boxW * 100) + "%";
    }
    var status = document.getElementById("placement-status");
    var reset = document.getElementById("placement-reset");
    var pageOf = function (number) {
      return document.querySelector(".sig-page[data-page='" + number + "']");
    };

    // Draw the box on a page at (x, y) points, clamped inside the page; the % values
    // keep it in place whatever width the page image is shown at.
    var draw = function (wrapper, x, y) {
      var pw = parseFloat(wrapper.dataset.w);
      var ph = parseFloat(wrapper.dataset.h);
      x = Math.min(Math.max(x, minX), pw - boxW);
      y = Math.min(Math.max(y, 0), ph - boxH);
      wrapper.appendChild(box);
      box.style.left = (x / pw * 100) + "%";
      box.style.top = ((ph - y - boxH) / ph * 100) + "%";
      box.style.width = (boxW / pw * 100) + "%";
      box.style.height = (boxH / ph * 100) + "%";
      box.hidden = false;
      return {x: x, y: y};
    };

    var say = function (page, note) {
      status.textContent = "";
      status.append("Chữ ký đặt tại ");
      var b = document.createElement("b");
      b.textContent = "trang " + page;
      status.append(b, " (" + note + ").");
    };

    var start = pageOf(box.dataset.page) || pageOf(1);
    if (start) draw(start, parseFloat(box.dataset.x), parseFloat(box.dataset.y));
    if (form.elements.page.value && reset) reset.hidden = false;

    document.querySelectorAll(".sig-page").forEach(function (wrapper) {
      wrapper.addEventListener("click", function (event) {
        var rect = wrapper.getBoundingClientRect();
        var pw = parseFloat(wrapper.dataset.w);
        var ph = parseFloat(wrapper.dataset.h);
        // The click is the centre of the new box; PDF y grows upwards.
        var x = (event.clientX - rect.left) / rect.width * pw - boxW / 2;
        var y = (1 - (event.clientY - rect.top) / rect.height) * ph - boxH / 2;
        var at = draw(wrapper, x, y);
        form.elements.page.value = wrapper.dataset.page;
        form.elements.x.value = at.x.toFixed(1);
        form.elements.y.value = at.y.toFixed(1);
        box.classList.add("moved");
        if (reset) reset.hidden = false;
        say(wrapper.dataset.page, "vị trí bạn đã chọn");
        form.elements.pin.focus();
      });
    });

    if (reset) {
      reset.addEventListener("click", function () {
        var proposed = pageOf(box.dataset.proposedPage);
        draw(proposed, parseFloat(box.dataset.proposedX), parseFloat(box.dataset.proposedY));
        form.elements.page.value = form.elements.x.value = form.elements.y.value = "";
        box.classList.remove("moved");
        reset.hidden = true;
        say(box.dataset.proposedPage, "vị trí đề xuất");
        form.elements.pin.focus();
      });
    }

    form.addEventListener("submit", function () {
      var button = document.getElementById("sign-button");
      // Disabled after the submission has been collected, so the form still posts.
      setTimeout(function () { button.disabled = true; button.textContent = "Đang ký…"; }, 0);
    });
  }

  // Batch signing: "select all", and a progress state while the server signs.
  var batch = document.getElementById("batch-form");
  if (batch) {
    var all = document.getElementById("batch-all");
    var boxes = batch.querySelectorAll("input[name='ids']");
    var sync = function () {
      var checked = batch.querySelectorAll("input[name='ids']:checked").length;
      all.checked = checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    };
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
    });
    boxes.forEach(function (b) { b.addEventListener("change", sync); });
    sync();
    batch.addEventListener("submit", function (event) {
      var count = batch.querySelectorAll("input[name='ids']:checked").length;
      var progress = document.getElementById("batch-progress");
      if (!count) {
        event.preventDefault();
        progress.textContent = "Chọn ít nhất một văn bản để ký.";
        return;
      }
      var button = document.getElementById("batch-button");
      progress.textContent = "Đang ký " + count + " văn bản…";
      setTimeout(function () { button.disabled = true; }, 0);
    });
  }
})();
