// Web chat client for Permanence (socket.io transport of Rasa; see connectors/webchat.py).
(function () {
  "use strict";
  var KEY = "permanence.session_id";
  var LOG_KEY = "permanence.transcript";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sessionId = window.sessionStorage.getItem(KEY);
  var transcript = JSON.parse(window.sessionStorage.getItem(LOG_KEY) || "[]");

  function save() {
    window.sessionStorage.setItem(LOG_KEY, JSON.stringify(transcript.slice(-200)));
  }

  // Text with clickable links, built with DOM nodes only (never innerHTML).
  function appendText(node, text) {
    var parts = String(text).split(/(https?:\/\/[^\s<>"]+)/g);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = document.createElement("a");
        a.href = part; a.textContent = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        node.appendChild(a);
      } else if (part) {
        node.appendChild(document.createTextNode(part));
      }
    });
  }

  function show(who, text, record) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.setAttribute("dir", "auto");
    div.dataset.who = who;
    appendText(div, text);
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    if (record !== false) { transcript.push({ who: who, text: text }); save(); }
    return div;
  }

  function showChoices(buttons) {
    var box = document.createElement("div");
    box.className = "choices";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
        send(b.payload, b.title);
      });
      box.appendChild(btn);
    });
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  transcript.forEach(function (m) { show(m.who, m.text, false); });

  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });
  socket.on("connect", function () { socket.emit("session_request", { session_id: sessionId }); });
  // Messages typed before the server confirmed the session (slow network) wait, in order.
  var confirmed = false, waiting = [];
  socket.on("session_confirm", function (id) {
    sessionId = id;
    window.sessionStorage.setItem(KEY, id);
    confirmed = true;
    waiting.splice(0).forEach(emit);
  });
  socket.on("bot_uttered", function (msg) {
    if (msg.text) { show("bot", msg.text); }
    if (msg.attachment && msg.attachment.payload && msg.attachment.payload.src) {
      show("bot", msg.attachment.payload.src);
    }
    var buttons = msg.quick_replies || msg.buttons;
    if (buttons && buttons.length) { showChoices(buttons); }
  });
  socket.on("disconnect", function () { show("system", "Connexion perdue, reconnexion…", false); });

  function newId() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function emit(message) {
    socket.emit("user_uttered", { message: message.text, session_id: sessionId, message_id: message.id });
  }

  function send(payload, shown) {
    show("user", shown || payload);
    var message = { text: payload, id: newId() };
    if (confirmed) { emit(message); } else { waiting.push(message); }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("reset").addEventListener("click", function () {
    window.sessionStorage.removeItem(KEY);
    window.sessionStorage.removeItem(LOG_KEY);
    window.location.reload();
  });
})();
