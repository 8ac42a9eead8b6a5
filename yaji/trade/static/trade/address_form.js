// The new-address form's toggle between a Chinese address (province / city / district) and an
// address abroad: show the chosen half, hide and disable the other so it is neither seen nor
// sent. Without JavaScript both halves show and the server reads the one the radio names.
(function () {
  "use strict";
  function sync(form) {
    var chosen = form.querySelector('input[name="address_kind"]:checked');
    var kind = chosen ? chosen.value : "cn";
    form.querySelectorAll("[data-address-kind]").forEach(function (part) {
      var on = part.getAttribute("data-address-kind") === kind;
      part.hidden = !on;
      part.querySelectorAll("input, select").forEach(function (field) { field.disabled = !on; });
    });
  }
  document.querySelectorAll("[data-address-form]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "address_kind") { sync(form); }
    });
    sync(form);
  });
})();
