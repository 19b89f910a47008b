// The lawyer's desk (desk/pages.py): live updates (Server-Sent Events at /desk/events) and the
// case actions, through the JSON API (/desk/api) with the session's CSRF token.
// Text from the server is either escaped HTML rendered by the server, or set with textContent.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var page = document.body.dataset.page;
  var status = document.getElementById("live-status");

  function toLogin() { window.location.assign("/desk/login"); }

  function api(method, path, body) {
    return fetch("/desk/api" + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (reply) {
      if (reply.status === 401) { toLogin(); throw new Error("unauthorized"); }
      return reply.json().catch(function () { return {}; }).then(function (data) {
        data.httpStatus = reply.status;
        if (!reply.ok) {
          var error = new Error(data.detail || data.error || ("HTTP " + reply.status));
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }

  function get(path, asJson) {
    return fetch(path, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (reply) {
        if (reply.status === 401) { toLogin(); throw new Error("unauthorized"); }
        if (!reply.ok) { throw new Error("HTTP " + reply.status); }
        return asJson ? reply.json() : reply.text();
      });
  }

  // One refresh at a time; an event during a refresh asks for one more afterwards.
  function serialized(work) {
    var running = false, again = false;
    return function run() {
      if (running) { again = true; return; }
      running = true; again = false;
      work().catch(function () { /* the next event or reconnection retries */ })
        .then(function () { running = false; if (again) { run(); } });
    };
  }

  // ---------------------------------------------------------------- live events
  function listen(onEvent) {
    if (!window.EventSource) { return; }
    var source = new EventSource("/desk/events");
    source.onopen = function () {
      if (status) { status.hidden = false; status.textContent = "en direct"; status.classList.remove("down"); }
      onEvent({ type: "desk.connected", case_id: null });  // catch up on what a reconnection missed
    };
    source.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "session.ended") { source.close(); toLogin(); return; }
      onEvent(event);
    };
    source.onerror = function () {
      if (status) { status.hidden = false; status.textContent = "reconnexion…"; status.classList.add("down"); }
      if (source.readyState === EventSource.CLOSED) {
        // Refused (401): check the session, then try again.
        get("/desk/fragments/queue").then(function () {
          window.setTimeout(function () { listen(onEvent); }, 2000);
        }).catch(function () {});
      }
    };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // ---------------------------------------------------------------- the queue
  function queuePage() {
    var box = document.getElementById("queue-live");
    var known = ids();
    function ids() {
      var found = {};
      Array.prototype.forEach.call(box.querySelectorAll("[data-case-id]"), function (li) { found[li.dataset.caseId] = true; });
      return found;
    }
    // Which control has the keyboard focus, so that a refresh puts it back on the same one.
    function focusKey() {
      var active = document.activeElement;
      if (!active || active === document.body || !box.contains(active)) { return null; }
      var row = active.closest("[data-case-id], [data-post-id]");
      var selector = active.matches("a.case-link") ? "a.case-link" :
        active.dataset.action ? 'button[data-action="' + active.dataset.action + '"]' :
        (active.id ? "#" + active.id : null);
      if (!selector) { return null; }
      return {
        row: row ? (row.dataset.caseId ? '[data-case-id="' + row.dataset.caseId + '"]'
          : '[data-post-id="' + row.dataset.postId + '"]') : null,
        section: row ? row.parentNode.id : null,
        selector: selector
      };
    }
    function restoreFocus(key) {
      if (!key) { return; }
      var target = null;
      if (key.row) {
        var row = (key.section && document.getElementById(key.section) || box).querySelector(key.row) ||
          box.querySelector(key.row);
        target = row ? row.querySelector(key.selector) : null;
      } else {
        target = box.querySelector(key.selector);
      }
      if (!target) {  // the case left the list: the queue's heading keeps the focus in place
        target = box.querySelector("h1");
        if (target) { target.setAttribute("tabindex", "-1"); }
      }
      if (target) { target.focus({ preventScroll: true }); }
    }
    var refresh = serialized(function () {
      return get(box.dataset.fragment).then(function (html) {
        var key = focusKey();
        box.innerHTML = html;  // rendered and escaped by the server (desk/templates/_queue.html)
        restoreFocus(key);
        Array.prototype.forEach.call(box.querySelectorAll("[data-case-id]"), function (li) {
          if (!known[li.dataset.caseId]) { li.classList.add("fresh"); }
        });
        known = ids();
        countInTitle(box);
        watchNew(box);
      });
    });
    box.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (!button) { return; }
      var id = button.dataset.case;
      button.disabled = true;
      var done;
      if (button.dataset.action === "close") {
        done = api("POST", "/cases/" + id + "/close", { outcome: button.dataset.outcome }).then(refresh);
      } else if (button.dataset.action === "reopen") {
        done = api("POST", "/cases/" + id + "/take").then(function () {
          window.location.assign("/desk/cases/" + id);
        });
      } else if (button.dataset.action === "post-done") {
        // A public post answered by hand on X (or set aside): off the list.
        done = api("POST", "/public-posts/" + encodeURIComponent(button.dataset.channel) + "/" +
          encodeURIComponent(button.dataset.post) + "/done").then(refresh);
      }
      if (done) {
        done.catch(function (error) {
          button.disabled = false;
          window.alert(error.data && error.data.error === "held_by_colleague" ?
            "Un·e collègue suit ce dossier : ouvrez-le pour le reprendre." : error.message);
        });
      }
    });
    watchNew(box);  // what is there already is not announced
    notifyControls();
    listen(function () { refresh(); });
    // Public posts to answer by hand come without a live event: re-read the queue now and then.
    window.setInterval(refresh, QUEUE_SECONDS * 1000);
    budgets(box);
    costs(box);
  }
  var QUEUE_SECONDS = 30;

  // The tab's title counts every section of the queue: cases, referrals, conflicts, posts.
  function countInTitle(box) {
    var count = box.querySelectorAll("[data-case-id], [data-post-id]").length;
    document.title = (count ? "(" + count + ") " : "") + "File · Permanence";
  }

  // ---------------------------------------------------------------- new cases announced
  // A browser notification for each new case (once the lawyer allowed them, from the button:
  // never asked on load) and, for P0 and P1, a sound if the lawyer turned it on (off by
  // default, remembered in localStorage). A notification says the tier, the domain and the
  // case number: nothing the person wrote (a locked phone shows it).
  var SOUND_KEY = "permanence.desk.sound";
  var LOUD = { P0: true, P1: true };
  var audio = null;
  var seen = null;  // every case id seen since the page opened: each is announced once

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      if (!audio) { audio = new Context(); }
      if (audio.state === "suspended") { audio.resume().catch(function () {}); }
      [0, 0.3].forEach(function (start) {
        var tone = audio.createOscillator(), gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.2;
        tone.connect(gain);
        gain.connect(audio.destination);
        tone.start(audio.currentTime + start);
        tone.stop(audio.currentTime + start + 0.18);
      });
    } catch (e) { /* no sound device: the notification and the queue remain */ }
  }

  // Browsers let a page play sound only after the person interacted with it: the first key
  // or tap on any desk page (with the sound on) readies it for the next new case.
  function readySound() {
    if (!soundOn()) { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      if (!audio) { audio = new Context(); }
      if (audio.state === "suspended") { audio.resume().catch(function () {}); }
    } catch (e) { /* no sound device */ }
  }
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, readySound, { once: true, capture: true });
  });

  function canNotify() { return "Notification" in window; }

  function announce(found) {
    if (canNotify() && window.Notification.permission === "granted") {
      found.forEach(function (item) {
        try {
          var shown = new window.Notification("Nouveau dossier " + item.label, {
            body: item.domain + " · dossier n° " + item.id,
            tag: "permanence-case-" + item.id,
            lang: "fr",
            requireInteraction: item.tier === "P0"
          });
          shown.onclick = function () {
            window.focus();
            window.location.assign("/desk/cases/" + item.id);
          };
        } catch (e) { /* some browsers show notifications from a service worker only */ }
      });
    }
    if (soundOn() && found.some(function (item) { return LOUD[item.tier]; })) { beep(); }
  }

  // The cases of a queue (the page's, or the fragment read from the case page) not seen yet.
  function watchNew(root) {
    var rows = root.querySelectorAll("li[data-case-id]");
    var first = seen === null, found = [];
    if (first) { seen = {}; }
    Array.prototype.forEach.call(rows, function (li) {
      var id = li.dataset.caseId;
      if (seen[id]) { return; }
      seen[id] = true;
      if (!first && li.dataset.state === "waiting") {
        var label = li.querySelector(".tier"), domain = li.querySelector(".domain");
        found.push({ id: id, tier: li.dataset.tier,
                     label: label ? label.textContent : li.dataset.tier,
                     domain: domain ? domain.textContent : "" });
      }
    });
    if (found.length) { announce(found); }
  }

  // The queue page's controls: ask for the permission (a button), the sound (a checkbox).
  function notifyControls() {
    var button = document.getElementById("notify-permission");
    var state = document.getElementById("notify-state");
    var sound = document.getElementById("notify-sound");
    if (!button || !state || !sound) { return; }
    function show() {
      if (!canNotify()) {
        button.hidden = true;
        state.textContent = "Notifications du navigateur : non prises en charge par ce navigateur.";
        return;
      }
      var permission = window.Notification.permission;
      button.hidden = permission !== "default";
      state.textContent = permission === "granted" ? "Notifications du navigateur : activées." :
        permission === "denied" ? "Notifications du navigateur : refusées (réglages du site dans le navigateur)." : "";
    }
    button.addEventListener("click", function () {
      var asked = window.Notification.requestPermission(show);
      if (asked && asked.then) { asked.then(show, show); }
    });
    show();
    sound.checked = soundOn();
    sound.addEventListener("change", function () {
      try { window.localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      if (sound.checked) { beep(); }  // heard once now: the browser then lets the page play it
    });
  }

  // The channels' sending budgets (X: DMs left, reset, waiting): their lines, every
  // BUDGET_SECONDS, without re-reading the queue.
  var BUDGET_SECONDS = 10;
  function budgets(box) {
    var update = serialized(function () {
      return get("/desk/api/budgets", true).then(function (data) {
        (data.channels || []).forEach(function (channel) {
          var line = box.querySelector('p.budget[data-budget="' + channel.channel + '"]');
          if (line) { line.textContent = channel.line; }
        });
      });
    });
    window.setInterval(update, BUDGET_SECONDS * 1000);
  }

  // What the channels' APIs cost (X: this session, this month): their lines, every
  // COST_SECONDS.
  var COST_SECONDS = 30;
  function costs(box) {
    var update = serialized(function () {
      return get("/desk/api/costs", true).then(function (data) {
        (data.channels || []).forEach(function (channel) {
          var line = box.querySelector('p.cost[data-cost="' + channel.channel + '"]');
          if (line) { line.textContent = channel.line; }
        });
      });
    });
    window.setInterval(update, COST_SECONDS * 1000);
  }

  // ---------------------------------------------------------------- a case
  function casePage() {
    var root = document.getElementById("case");
    var id = root.dataset.caseId;
    var timeline = document.getElementById("timeline");
    var flash = document.getElementById("flash");
    var reply = document.getElementById("reply");
    var note = document.getElementById("note");

    function say(text, bad) {
      flash.textContent = text;
      flash.classList.toggle("bad", !!bad);
    }

    var gone = false;  // erased: nothing left to update
    var update = serialized(function () {
      if (gone) { return Promise.resolve(); }
      var query = "?after_message=" + encodeURIComponent(root.dataset.lastMessage) +
        "&after_note=" + encodeURIComponent(root.dataset.lastNote);
      return get("/desk/cases/" + id + "/updates" + query, true).then(function (data) {
        var stick = timeline.scrollTop + timeline.clientHeight >= timeline.scrollHeight - 40;
        if (data.html && data.html.trim()) {
          timeline.insertAdjacentHTML("beforeend", data.html);  // escaped by the server
        }
        root.dataset.lastMessage = data.last_message;
        root.dataset.lastNote = data.last_note;
        root.dataset.state = data.state;
        root.dataset.mine = data.mine ? "yes" : "no";
        root.dataset.reopenable = data.reopenable ? "yes" : "no";
        if (data.labels) { showLabels(data.labels); }
        var state = document.getElementById("case-state");
        state.textContent = data.state_label;
        state.className = "state state-" + data.state;
        var flag = document.getElementById("erasure-flag");
        if (flag && data.erasure_requested) {
          document.getElementById("erasure-when").textContent = " (" + data.erasure_requested + ")";
          flag.hidden = false;
        }
        Object.keys(data.deliveries || {}).forEach(function (key) {
          var badge = document.querySelector("#" + key + " .delivery");
          if (badge) {
            badge.textContent = data.deliveries[key].label;
            badge.className = "delivery " + data.deliveries[key].state;
          }
        });
        if (stick) { timeline.scrollTop = timeline.scrollHeight; }
      });
    });

    // The case's labels, from the server's JSON (set with textContent).
    var labelList = document.getElementById("label-list");
    function showLabels(labels) {
      var shown = labels.map(function (l) { return l.id + ":" + l.name; }).join("\n");
      if (labelList.dataset.shown === shown) { return; }
      labelList.dataset.shown = shown;
      var focused = document.activeElement && labelList.contains(document.activeElement);
      labelList.textContent = "";
      labels.forEach(function (label) {
        var item = document.createElement("li");
        var name = document.createElement("span");
        name.className = "label-name";
        name.dir = "auto";
        name.textContent = label.name;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.dataset.action = "label-remove";
        remove.dataset.label = label.id;
        remove.setAttribute("aria-label", "Retirer l'étiquette « " + label.name + " »");
        remove.textContent = "×";
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(remove);
        labelList.appendChild(item);
      });
      if (focused) { document.getElementById("label-new").focus(); }
    }

    // After an erasure nothing of the case remains: the page says so, with the way back.
    function erased() {
      gone = true;
      var done = document.createElement("section");
      done.className = "card";
      var heading = document.createElement("h1");
      heading.textContent = "Données effacées";
      heading.setAttribute("tabindex", "-1");
      var text = document.createElement("p");
      text.setAttribute("role", "status");
      text.textContent = "La conversation, le dossier et les messages de la personne sont effacés de tous les systèmes du cabinet.";
      var back = document.createElement("a");
      back.href = "/desk/";
      back.textContent = "Retour à la file";
      done.appendChild(heading);
      done.appendChild(text);
      done.appendChild(back);
      root.replaceWith(done);
      heading.focus();
    }

    function act(button, path, body, success, method) {
      button.disabled = true;
      say("…");
      return api(method || "POST", "/cases/" + id + path, body).then(function (data) {
        say(success(data));
        return data;
      }).catch(function (error) {
        if (error.data && error.data.error === "held_by_colleague") {
          say("Refusé : un·e collègue suit ce dossier. Reprenez-le d'abord (« Reprendre le dossier »).", true);
          throw error;
        }
        say(error.message === "unauthorized" ? "" : "Refusé : " + error.message, true);
        throw error;
      }).then(function (data) { button.disabled = false; update(); return data; },
              function () { button.disabled = false; update(); });
    }

    root.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.classList.contains("canned-insert")) {
        var text = button.dataset.text, start = reply.selectionStart, end = reply.selectionEnd;
        reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
        reply.focus();
        reply.selectionStart = reply.selectionEnd = start + text.length;
        return;
      }
      var action = button.dataset.action;
      if (action === "take") {
        act(button, "/take", undefined, function () { return "Dossier pris en charge."; });
      } else if (action === "takeover") {
        if (!window.confirm("Un·e collègue suit ce dossier. Le reprendre ? (inscrit au journal)")) { return; }
        act(button, "/take", { takeover: true }, function () { return "Dossier repris : il est à vous."; });
      } else if (action === "handback") {
        if (!window.confirm("Rendre la conversation à l'assistant ? La personne en sera informée.")) { return; }
        act(button, "/handback", undefined, function (data) {
          return data.conversation === "sent" ? "Conversation rendue à l'assistant ; la personne a été prévenue."
            : "Conversation rendue à l'assistant.";
        });
      } else if (action === "erase") {
        if (!window.confirm("Effacer toutes les données de la personne (conversation, dossier, messages) de tous les systèmes du cabinet ? C'est définitif.")) { return; }
        act(button, "/erase", { confirm: "erase" }, function () { return "Données effacées."; })
          .then(function (data) { if (data && data.conversation === "erased") { erased(); } });
      } else if (action === "close") {
        var outcome = document.getElementById("outcome").value;
        act(button, "/close", { outcome: outcome }, function () { return "Dossier clos."; });
      } else if (action === "release") {
        act(button, "/release", undefined, function () { return "Dossier remis dans la file."; });
      } else if (action === "reopen") {
        act(button, "/reopen", undefined, function () { return "Dossier rouvert : il est à vous."; });
      } else if (action === "reassign") {
        var to = document.getElementById("reassign-to");
        var name = to.options[to.selectedIndex].text;
        if (!window.confirm("Confier ce dossier à " + name + " ? (inscrit au journal)")) { return; }
        act(button, "/reassign", { to: Number(to.value) }, function () { return "Dossier confié à " + name + "."; });
      } else if (action === "label-remove") {
        act(button, "/labels/" + encodeURIComponent(button.dataset.label), undefined,
            function (data) { showLabels(data.labels); return "Étiquette retirée."; }, "DELETE");
      }
    });

    document.getElementById("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!reply.value.trim()) { reply.focus(); return; }
      var button = this.querySelector("button[type=submit]");
      act(button, "/reply", { text: reply.value }, function (data) {
        reply.value = "";
        return data.delivery === "sent" ? "Réponse envoyée." :
          "Réponse gardée au dossier, mais non remise par le canal de la personne.";
      });
    });

    var labelNew = document.getElementById("label-new");
    document.getElementById("label-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!labelNew.value.trim()) { labelNew.focus(); return; }
      var button = this.querySelector("button[type=submit]");
      act(button, "/labels", { label: labelNew.value }, function (data) {
        labelNew.value = "";
        showLabels(data.labels);
        return "Étiquette ajoutée.";
      });
    });

    document.getElementById("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!note.value.trim()) { note.focus(); return; }
      var button = this.querySelector("button[type=submit]");
      act(button, "/note", { text: note.value }, function () { note.value = ""; return "Note ajoutée."; });
    });

    // New cases are announced here too: the queue is read when another case opens or changes
    // (a case opened by another server process arrives as a change).
    var queueRead = serialized(function () {
      return get("/desk/fragments/queue").then(function (html) {
        watchNew(new DOMParser().parseFromString(html, "text/html").body);  // inert: not shown
      });
    });

    timeline.scrollTop = timeline.scrollHeight;
    listen(function (event) {
      if (String(event.case_id) !== id) { queueRead(); }
      if (!event.case_id || String(event.case_id) === id) { update(); }
    });
    // A channel that queues its sends (X) tells what became of a reply without an event:
    // while a reply is on its way or queued, ask every DELIVERY_SECONDS.
    var DELIVERY_SECONDS = 5;
    window.setInterval(function () {
      if (timeline.querySelector(".delivery.pending, .delivery.queued")) { update(); }
    }, DELIVERY_SECONDS * 1000);
  }

  // ---------------------------------------------------------------- search, closed cases
  function searchPage() {
    var results = document.getElementById("search-results");
    if (!results) { return; }
    results.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action=reopen]");
      if (!button) { return; }
      button.disabled = true;
      api("POST", "/cases/" + button.dataset.case + "/reopen").then(function () {
        window.location.assign("/desk/cases/" + button.dataset.case);
      }).catch(function (error) {
        button.disabled = false;
        window.alert(error.data && error.data.error === "invalid_transition" ?
          "Ce dossier ne peut pas être rouvert : la personne a un autre dossier ouvert, ou le délai de conservation est passé." :
          error.message);
      });
    });
  }

  if (page === "queue") { queuePage(); }
  else if (page === "case") { casePage(); }
  else if (page === "search") { searchPage(); }
}());
