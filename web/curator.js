// Jincheng curator pages: small conveniences over forms that work without this script.
// - An image chosen for upload is previewed before it is sent (and an oversized file is
//   refused here, beside the field, instead of after a long upload).
// - The event fields are hidden unless the resource type is "event".
// - Buttons and forms marked data-confirm ask before deleting.
(function () {
  "use strict";

  function fieldError(input, message) {
    var box = input.closest(".field");
    var id = input.id + "-client-error";
    var old = document.getElementById(id);
    if (old) { old.remove(); }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (t) {
      return t && t !== id;
    });
    if (message) {
      var p = document.createElement("p");
      p.className = "field-error";
      p.id = id;
      p.textContent = message;
      input.parentNode.insertBefore(p, input);
      described.push(id);
      input.setAttribute("aria-invalid", "true");
      if (box) { box.classList.add("invalid"); }
    } else {
      input.removeAttribute("aria-invalid");
      if (box) { box.classList.remove("invalid"); }
    }
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function setUpPreview(input) {
    var img = document.getElementById(input.getAttribute("data-preview"));
    var box = img && img.closest("figure");
    var max = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    var url = null;
    input.addEventListener("change", function () {
      if (url) { URL.revokeObjectURL(url); url = null; }
      var file = input.files && input.files[0];
      fieldError(input, "");
      if (!file || !img) { if (box) { box.hidden = true; } return; }
      if (max && file.size > max) {
        fieldError(input, "图像太大：文件不能超过 " + Math.ceil(max / 1048576) + " MB。");
        input.value = "";
        if (box) { box.hidden = true; }
        return;
      }
      if (!/^image\/(jpeg|png|webp)$/.test(file.type)) {
        fieldError(input, "只支持 JPEG、PNG 和 WebP 格式的图像。");
        if (box) { box.hidden = true; }
        return;
      }
      url = URL.createObjectURL(file);
      img.src = url;
      img.alt = "待上传图像的预览：" + file.name;
      if (box) { box.hidden = false; }
    });
  }

  function setUpEventFields() {
    var type = document.getElementById("f-resource_type");
    var group = document.querySelector("[data-event-fields]");
    if (!type || !group) { return; }
    function sync() {
      var filled = Array.prototype.some.call(group.querySelectorAll("input"), function (i) { return i.value; });
      // Never hide fields that hold something (or an error): the curator must see them.
      group.hidden = type.value !== "event" && !filled && !group.classList.contains("invalid");
    }
    type.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-preview]"), setUpPreview);
    setUpEventFields();
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    var summary = document.getElementById("error-summary") || document.getElementById("conflict");
    if (summary) { summary.focus(); }
  });
})();
