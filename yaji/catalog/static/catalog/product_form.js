// The product form shows only the fields of the chosen kind (limited edition, made to order,
// course). Without JavaScript every field stays visible and the server still decides.
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var kind = form.querySelector("select[name$='kind']");
    var parts = form.querySelectorAll("[data-kinds]");
    if (!kind || !parts.length) return;
    function sync() {
      parts.forEach(function (part) {
        var show = part.getAttribute("data-kinds").split(" ").indexOf(kind.value) !== -1;
        // A field holding an error stays visible, whatever the kind.
        part.hidden = !show && !part.querySelector(".has-error");
      });
    }
    kind.addEventListener("change", sync);
    sync();
  });
})();
