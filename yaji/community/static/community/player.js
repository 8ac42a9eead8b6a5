/* Verified listening: get a play token on first play, then report the position every ~5 s and
   on pause / seek / end. The server decides what counts; this only shows its answer. */
(function () {
  "use strict";
  var root = document.querySelector("[data-work-player]");
  if (!root || root.dataset.auth !== "1") return;
  var audio = root.querySelector("audio");
  var bar = root.querySelector("[data-coverage-bar]");
  var pct = root.querySelector("[data-coverage-pct]");
  var done = root.querySelector("[data-complete]");
  var token = null;
  var starting = null;
  var timer = null;
  var lastPos = 0;
  var queue = Promise.resolve(); // heartbeats leave in order

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  function start() {
    if (token) return Promise.resolve(token);
    if (!starting) {
      starting = post(root.dataset.playsUrl).then(function (res) {
        starting = null;
        if (!res.ok) throw new Error(res.data.code || "play_start_failed");
        token = res.data.token;
        return token;
      }, function (err) { starting = null; throw err; });
    }
    return starting;
  }

  function render(d) {
    bar.value = d.coverage_pct;
    pct.textContent = Math.floor(d.coverage_pct) + "%";
    if (d.completed) done.hidden = false;
  }

  function send(seconds) {
    if (!token || !isFinite(seconds)) return;
    var body = { token: token, position_ms: Math.max(0, Math.floor(seconds * 1000)) };
    queue = queue.then(function () {
      return post(root.dataset.heartbeatUrl, body).then(function (res) {
        if (res.ok) render(res.data);
        else if (res.status === 404 || res.status === 410) token = null; // next play starts anew
      }).catch(function () {});
    });
  }

  function tick() { send(audio.currentTime); }
  function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

  audio.addEventListener("play", function () {
    start().then(function () {
      tick();
      if (!timer) timer = setInterval(tick, 5000);
    }).catch(function () {});
  });
  audio.addEventListener("timeupdate", function () { if (!audio.seeking) lastPos = audio.currentTime; });
  // When "seeking" fires currentTime is already the target: report where playback really was.
  audio.addEventListener("seeking", function () { send(lastPos); });
  audio.addEventListener("seeked", function () { lastPos = audio.currentTime; tick(); });
  audio.addEventListener("pause", function () { tick(); stopTimer(); });
  audio.addEventListener("ended", function () { send(audio.duration); stopTimer(); });
})();
