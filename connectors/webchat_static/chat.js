// Web chat client for Permanence (socket.io transport of Rasa; see connectors/webchat.py).
(function () {
  "use strict";
  // The session secret the server issued to this tab: it resumes the conversation after a
  // reload. It never leaves this tab's sessionStorage except to this server.
  var KEY = "permanence.secret";
  var LOG_KEY = "permanence.transcript";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  if (window.sessionStorage.getItem("permanence.session_id") !== null) {
    // A tab from before server-issued sessions: that conversation cannot be resumed.
    window.sessionStorage.removeItem("permanence.session_id");
    window.sessionStorage.removeItem(LOG_KEY);
  }
  var secret = window.sessionStorage.getItem(KEY);
  // A link to continue a conversation begun on X (?continue=<token>): presented once, then
  // taken out of the address (not kept in the history, not sent again by a reload).
  var params = new URLSearchParams(window.location.search);
  var continueToken = params.get("continue");
  if (continueToken !== null) {
    window.history.replaceState(null, "", window.location.pathname);
  }
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
        send({ payload: b.payload }, b.title);
      });
      box.appendChild(btn);
    });
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  transcript.forEach(function (m) { show(m.who, m.text, false); });

  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    if (continueToken !== null) {
      socket.emit("session_request", { "continue": continueToken });
      continueToken = null;
    } else {
      socket.emit("session_request", { secret: secret });
    }
  });
  // Messages typed before the server confirmed the session (slow network, reconnection) wait,
  // in order: the server takes nothing from a socket without a session.
  var confirmed = false, waiting = [];
  socket.on("session_confirm", function (data) {
    var issued = data && data.secret;
    if (!issued) { return; }
    if ((secret && issued !== secret) || data.continued) {
      // Not the conversation this transcript belongs to: start the screen afresh.
      transcript = []; save();
      while (log.firstChild) { log.removeChild(log.firstChild); }
    }
    secret = issued;
    window.sessionStorage.setItem(KEY, issued);
    confirmed = true;
    waiting.splice(0).forEach(emit);
  });
  // The earlier messages of a conversation continued from X (this socket only).
  socket.on("history", function (data) {
    ((data && data.messages) || []).forEach(function (m) {
      if (m && (m.who === "user" || m.who === "bot") && typeof m.text === "string") {
        show(m.who, m.text);
      }
    });
  });
  socket.on("bot_uttered", function (msg) {
    if (msg.text) { show("bot", msg.text); }
    if (msg.attachment && msg.attachment.payload && msg.attachment.payload.src) {
      show("bot", msg.attachment.payload.src);
    }
    var buttons = msg.quick_replies || msg.buttons;
    if (buttons && buttons.length) { showChoices(buttons); }
  });
  socket.on("disconnect", function () {
    confirmed = false;
    show("system", "Connexion perdue, reconnexion…", false);
  });

  function newId() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // The socket's session says whose conversation it is: no id travels with a message.
  function emit(message) {
    socket.emit("user_uttered", message);
  }

  // content: {message: typed text} or {payload: a button's payload}; shown: what the person sees.
  function send(content, shown) {
    show("user", shown);
    var message = { message_id: newId() };
    if (content.payload !== undefined) { message.payload = content.payload; }
    else { message.message = content.message; }
    if (confirmed) { emit(message); } else { waiting.push(message); }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    send({ message: text }, text);
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
