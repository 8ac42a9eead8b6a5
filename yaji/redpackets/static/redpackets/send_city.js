/* The send form's same-city audience: the location fields show only for 同城, and
   "使用我的位置" fills them from the browser (navigator.geolocation). Typing them works too;
   the server checks the coordinates and keeps only their geohash cell. */
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=send-form]");
  if (!form) return;
  var audience = form.querySelector("[name=audience]");
  var city = form.querySelector("[data-city-fields]");
  var status = form.querySelector("[data-locate-status]");
  var lat = form.querySelector("[name=lat]");
  var lng = form.querySelector("[name=lng]");
  if (!audience || !city) return;
  function toggle() { city.hidden = audience.value !== "city"; }
  audience.addEventListener("change", toggle);
  toggle();
  var locate = form.querySelector("[data-locate]");
  if (!locate) return;
  if (!("geolocation" in navigator)) { locate.hidden = true; return; }
  locate.addEventListener("click", function () {
    status.textContent = status.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        lat.value = pos.coords.latitude.toFixed(5);
        lng.value = pos.coords.longitude.toFixed(5);
        status.textContent = status.dataset.located;
      },
      function () { status.textContent = status.dataset.denied; },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 }
    );
  });
})();
