// Web chat client for Permanence (socket.io transport of Rasa; see connectors/webchat.py).
(function () {
  "use strict";
  // The session secret the server issued to this tab: it resumes the conversation after a
  // reload. It never leaves this tab's sessionStorage except to this server. Not localStorage:
  // on a shared phone or a library computer, the next person to open the chat would find the
  // conversation. Another tab, another browser, later: the resume link (given at the handover).
  var KEY = "permanence.secret";
  var LOG_KEY = "permanence.transcript";
  var SEEN_KEY = "permanence.seen";  // ids of the kept messages shown here (no duplicates)
  var RESUME_KEY = "permanence.resume";  // the resume link's token and whether to offer e-mail
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
  // A resume link (#resume=<token>): in the fragment, so that it never reaches a server's or a
  // proxy's log; presented once, then taken out of the address (and of the browser's history).
  var resumeToken = null;
  var hash = /^#resume=([A-Za-z0-9_-]{43})$/.exec(window.location.hash);
  if (hash) {
    resumeToken = hash[1];
    continueToken = null;
    window.history.replaceState(null, "", window.location.pathname);
  }
  var transcript = JSON.parse(window.sessionStorage.getItem(LOG_KEY) || "[]");
  var seen = JSON.parse(window.sessionStorage.getItem(SEEN_KEY) || "[]");

  function save() {
    window.sessionStorage.setItem(LOG_KEY, JSON.stringify(transcript.slice(-200)));
    window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(seen.slice(-1000)));
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

  // from: "lawyer" for the lawyer's messages, shown as theirs (a visible, spoken label).
  function show(who, text, record, from) {
    var div = document.createElement("div");
    div.className = "msg " + who + (from === "lawyer" ? " lawyer" : "");
    div.setAttribute("dir", "auto");
    div.dataset.who = from === "lawyer" ? "lawyer" : who;
    if (from === "lawyer") {
      var author = document.createElement("span");
      author.className = "author";
      author.textContent = "Votre avocat";
      div.appendChild(author);
      div.appendChild(document.createTextNode(" : "));
    }
    appendText(div, text);
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    if (record !== false) {
      var entry = { who: who, text: text };
      if (from === "lawyer") { entry.from = "lawyer"; }
      transcript.push(entry); save();
    }
    return div;
  }

  // The kept messages (with an id) are acknowledged once shown; one shown already is not
  // shown again (it may come again: another tab's socket, a reconnection).
  // A turn's messages arrive together: one acknowledgement for them.
  var toAck = [];
  function acknowledge(ids) {
    if (!ids.length) { return; }
    if (!toAck.length) {
      window.setTimeout(function () {
        var ids = toAck.splice(0);
        while (ids.length) { socket.emit("ack", { ids: ids.splice(0, 100) }); }
      }, 50);
    }
    Array.prototype.push.apply(toAck, ids);
  }
  function isNew(id) {
    if (seen.indexOf(id) !== -1) { return false; }
    seen.push(id);
    return true;
  }

  function showResume(token, notice) {
    var link = window.location.origin + window.location.pathname + "#resume=" + token;
    var box = document.createElement("section");
    box.className = "resume";
    box.setAttribute("aria-labelledby", "resume-title");
    var title = document.createElement("h2");
    title.id = "resume-title";
    title.textContent = "Pour revenir à cette conversation";
    var help = document.createElement("p");
    help.textContent = "Gardez ce lien personnel (en favori, ou notez-le) : il rouvre cette " +
      "conversation dans n'importe quel navigateur, et vous y trouverez la réponse de votre " +
      "avocat. Ne le partagez pas : il donne accès à la conversation.";
    var anchor = document.createElement("a");
    anchor.href = link; anchor.textContent = link; anchor.className = "resume-link";
    anchor.rel = "noopener noreferrer";
    var copy = document.createElement("button");
    copy.type = "button"; copy.textContent = "Copier le lien";
    var said = document.createElement("p");
    said.className = "resume-said"; said.setAttribute("role", "status");
    copy.addEventListener("click", function () {
      var done = function () { said.textContent = "Lien copié."; };
      var failed = function () {
        said.textContent = "Copie impossible ici : appuyez longuement sur le lien pour le copier.";
      };
      if (navigator.clipboard) { navigator.clipboard.writeText(link).then(done, failed); }
      else { failed(); }
    });
    box.appendChild(title); box.appendChild(help); box.appendChild(anchor); box.appendChild(copy);
    box.appendChild(said);
    if (notice) { box.appendChild(noticeForm()); }
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  // Optional: an address to be told that the lawyer answered, kept only with the box ticked.
  function noticeForm() {
    var form = document.createElement("form");
    form.className = "notice";
    var label = document.createElement("label");
    label.htmlFor = "notice-email";
    label.textContent = "Facultatif : votre adresse e-mail, pour être prévenu quand votre " +
      "avocat a répondu";
    var email = document.createElement("input");
    email.type = "email"; email.id = "notice-email"; email.autocomplete = "email";
    email.maxLength = 254;
    var consent = document.createElement("input");
    consent.type = "checkbox"; consent.id = "notice-consent";
    var consentLabel = document.createElement("label");
    consentLabel.htmlFor = "notice-consent";
    consentLabel.textContent = "J'accepte que cette adresse soit gardée pour me prévenir. " +
      "L'e-mail dira seulement que votre avocat a répondu : ni sa réponse, ni le lien. " +
      "L'adresse est effacée avec la conversation.";
    var submit = document.createElement("button");
    submit.type = "submit"; submit.textContent = "Me prévenir";
    var row = document.createElement("div");
    row.className = "consent";
    row.appendChild(consent); row.appendChild(consentLabel);
    form.appendChild(label); form.appendChild(email); form.appendChild(row);
    form.appendChild(submit);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      socket.emit("notice", { email: email.value, consent: consent.checked });
    });
    return form;
  }

  function showStoredResume() {
    var kept = JSON.parse(window.sessionStorage.getItem(RESUME_KEY) || "null");
    if (kept && kept.token) { showResume(kept.token, kept.notice); }
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

  transcript.forEach(function (m) { show(m.who, m.text, false, m.from); });
  showStoredResume();

  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    if (continueToken !== null) {
      socket.emit("session_request", { "continue": continueToken });
      continueToken = null;
    } else if (resumeToken !== null) {
      socket.emit("session_request", { resume: resumeToken });
      resumeToken = null;
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
    if ((secret && issued !== secret) || data.continued || data.resumed) {
      // Not the conversation this transcript belongs to: start the screen afresh.
      transcript = []; seen = []; save();
      window.sessionStorage.removeItem(RESUME_KEY);
      while (log.firstChild) { log.removeChild(log.firstChild); }
    }
    secret = issued;
    window.sessionStorage.setItem(KEY, issued);
    confirmed = true;
    waiting.splice(0).forEach(emit);
  });
  // The earlier messages of a conversation continued from X or resumed by its link (this
  // socket only); those the server kept carry their ids: shown, so acknowledged.
  socket.on("history", function (data) {
    var shown = [];
    ((data && data.messages) || []).forEach(function (m) {
      if (m && (m.who === "user" || m.who === "bot") && typeof m.text === "string") {
        show(m.who, m.text, true, m.from);
        (Array.isArray(m.ids) ? m.ids : []).forEach(function (id) {
          if (typeof id === "string" && isNew(id)) { shown.push(id); }
        });
      }
    });
    save();
    acknowledge(shown);
  });
  socket.on("resume_link", function (data) {
    if (!data || typeof data.token !== "string") { return; }
    window.sessionStorage.setItem(RESUME_KEY, JSON.stringify({ token: data.token,
                                                                notice: !!data.notice }));
    showResume(data.token, !!data.notice);
  });
  socket.on("notice_confirm", function (data) {
    var said = {
      invalid: "Cette adresse ne semble pas valide.",
      consent: "Cochez la case pour accepter que l'adresse soit gardée.",
      off: "Le cabinet n'envoie pas d'e-mails pour l'instant : gardez le lien.",
      failed: "L'adresse n'a pas pu être enregistrée. Merci de réessayer dans un instant."
    };
    if (data && data.kept) {
      show("system", "C'est noté : un e-mail vous préviendra quand votre avocat aura répondu.",
           false);
    } else if (data && data.error) {
      show("system", said[data.error] || said.failed, false);
    } else {
      show("system", "Votre adresse a été retirée.", false);
    }
  });
  socket.on("bot_uttered", function (msg) {
    if (msg.id !== undefined) {
      var id = String(msg.id);
      var fresh = isNew(id);
      save();
      acknowledge([id]);
      if (!fresh) { return; }
    }
    if (msg.text) { show("bot", msg.text, true, msg.from); }
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
    window.sessionStorage.removeItem(SEEN_KEY);
    window.sessionStorage.removeItem(RESUME_KEY);
    window.location.reload();
  });
})();
