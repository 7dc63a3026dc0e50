/* Brandpilot website widget. Embed with
 *   <script src="https://YOUR-SERVER/widget.js" data-brandpilot-key="bpw_…" async></script>
 * It asks the server whether this page's origin may use the brand's widget; if not, it
 * adds nothing to the page. Everything it draws lives in a shadow root, so the page's CSS
 * and the widget's cannot touch each other. Text from the server is only ever set as text,
 * never parsed as HTML. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-brandpilot-key]");
  if (!script || window.__brandpilotWidgetLoaded) return;
  window.__brandpilotWidgetLoaded = true;
  var key = script.getAttribute("data-brandpilot-key") || "";
  var base = new URL(script.src, location.href).origin;
  var api = base + "/api/v1/widget";
  var storeKey = "brandpilot:" + key;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function save(state) {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  fetch(api + "/config?key=" + encodeURIComponent(key), { mode: "cors", credentials: "omit" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(build, function (error) {
      console.warn("Brandpilot widget not loaded: this page's origin is not allowed, or the key is unknown (" + error.message + ")");
    });

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function build(config) {
    var theme = config.theme || {};
    var host = el("div", { id: "brandpilot-widget" });
    var root = host.attachShadow({ mode: "open" });
    var side = theme.position === "left" ? "left" : "right";
    var style = el("style");
    style.textContent =
      ":host{all:initial}" +
      "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}" +
      ".wrap{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;" +
      "--accent:" + theme.accent_color + ";--on-accent:" + theme.accent_text_color + ";" +
      "--bg:" + theme.background_color + ";--text:" + theme.text_color + "}" +
      "button{cursor:pointer;border:0;border-radius:8px;font-size:15px}" +
      "button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}" +
      "#bp-launcher{background:var(--accent);color:var(--on-accent);padding:12px 18px;border-radius:24px;box-shadow:0 2px 10px rgba(0,0,0,.25)}" +
      "#bp-panel{width:min(380px,calc(100vw - 40px));height:min(560px,calc(100vh - 90px));background:var(--bg);color:var(--text);" +
      "border-radius:12px;box-shadow:0 6px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;margin-bottom:10px}" +
      "#bp-panel[hidden]{display:none}" +
      "header{background:var(--accent);color:var(--on-accent);display:flex;align-items:center;justify-content:space-between;padding:10px 14px}" +
      "h2{font-size:16px;margin:0}" +
      "#bp-close{background:transparent;color:var(--on-accent);font-size:20px;padding:2px 8px}" +
      "#bp-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}" +
      ".bp-msg{max-width:88%;padding:8px 12px;border-radius:10px;line-height:1.4;white-space:pre-wrap;font-size:14px}" +
      ".bp-user{align-self:flex-end;background:var(--accent);color:var(--on-accent)}" +
      ".bp-assistant,.bp-agent{align-self:flex-start;background:rgba(127,127,127,.14)}" +
      ".bp-agent{border-left:4px solid var(--accent)}" +
      ".bp-who{display:block;font-size:12px;font-weight:600;margin-bottom:2px}" +
      ".bp-citations{margin:6px 0 0;padding-left:20px;font-size:12px}" +
      ".bp-citations a{color:inherit}" +
      ".bp-note{font-size:12px;font-style:italic;margin-top:6px}" +
      "form{display:flex;gap:8px;padding:10px;border-top:1px solid rgba(127,127,127,.3)}" +
      "textarea{flex:1;resize:none;border:1px solid rgba(127,127,127,.6);border-radius:8px;padding:8px;font-size:14px;color:var(--text);background:var(--bg)}" +
      "#bp-send{background:var(--accent);color:var(--on-accent);padding:0 14px}" +
      ".bp-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";
    root.appendChild(style);

    var wrap = el("div", { class: "wrap" });
    var panel = el("section", { id: "bp-panel", role: "dialog", "aria-labelledby": "bp-title", hidden: "" });
    var header = el("header");
    var title = el("h2", { id: "bp-title" }, config.title || config.brand);
    var close = el("button", { id: "bp-close", type: "button", "aria-label": "Close chat" }, "\u00d7");
    header.appendChild(title);
    header.appendChild(close);
    var log = el("div", { id: "bp-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
    var form = el("form");
    var label = el("label", { for: "bp-input", class: "bp-sr" }, "Your message");
    var input = el("textarea", { id: "bp-input", rows: "2", maxlength: "4000", placeholder: "Ask a question\u2026" });
    var send = el("button", { id: "bp-send", type: "submit" }, "Send");
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    var launcher = el("button", {
      id: "bp-launcher", type: "button", "aria-expanded": "false", "aria-controls": "bp-panel",
      "aria-label": "Chat with " + config.brand,
    }, "Chat with us");
    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(wrap);
    document.body.appendChild(host);

    var state = load();
    var busy = false;
    var poller = null;
    var shown = {};

    function addMessage(role, text) {
      var node = el("div", { class: "bp-msg bp-" + role });
      if (role !== "user") node.appendChild(el("span", { class: "bp-who" }, role === "agent" ? "Support team" : config.brand));
      var body = el("span", { class: "bp-text" }, text);
      node.appendChild(body);
      log.appendChild(node);
      log.scrollTop = log.scrollHeight;
      return { node: node, body: body };
    }

    function addCitations(message, citations) {
      if (!citations || !citations.length) return;
      var list = el("ol", { class: "bp-citations", "aria-label": "Sources" });
      citations.forEach(function (citation) {
        var item = el("li", { value: String(citation.marker) });
        var name = citation.title + (citation.citation && citation.citation !== citation.title ? " \u2014 " + citation.citation : "");
        var link = /^https?:\/\//i.test(citation.origin || "") ? el("a", { href: citation.origin, target: "_blank", rel: "noopener noreferrer" }, name) : el("span", {}, name);
        item.appendChild(link);
        list.appendChild(item);
      });
      message.node.appendChild(list);
    }

    function note(message, text) {
      message.node.appendChild(el("div", { class: "bp-note" }, text));
    }

    function show(messages) {
      messages.forEach(function (m) {
        if (shown[m.id]) return;
        shown[m.id] = true;
        var message = addMessage(m.role, m.content);
        if (m.role === "assistant") addCitations(message, m.citations);
        state.last_message_id = Math.max(state.last_message_id || 0, m.id);
      });
      save(state);
    }

    function session() {
      if (state.token && state.expires_at > Date.now() / 1000 + 60) return Promise.resolve(state.token);
      return fetch(api + "/sessions", {
        method: "POST", mode: "cors", credentials: "omit",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: key }),
      }).then(function (response) {
        if (!response.ok) throw new Error("session " + response.status);
        return response.json();
      }).then(function (out) {
        state = { token: out.token, expires_at: out.expires_at };
        save(state);
        return out.token;
      });
    }

    function refresh() {
      if (!state.conversation_id || !state.token || busy) return Promise.resolve();
      var url = api + "/conversations/" + state.conversation_id + "?key=" + encodeURIComponent(key);
      return fetch(url, { mode: "cors", credentials: "omit", headers: { authorization: "Bearer " + state.token } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (out) { if (out) show(out.messages); }, function () {});
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      if (!log.childNodes.length) addMessage("assistant", config.greeting);
      refresh();
      if (!poller) poller = setInterval(refresh, 8000);
      input.focus();
    }

    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      clearInterval(poller);
      poller = null;
      launcher.focus();
    }

    launcher.addEventListener("click", function () { if (panel.hidden) open(); else shut(); });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") shut(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || busy) return;
      busy = true;
      send.disabled = true;
      input.value = "";
      addMessage("user", text);
      var answer = addMessage("assistant", "");
      answer.node.setAttribute("aria-busy", "true");
      session().then(function (token) {
        return fetch(api + "/chat", {
          method: "POST", mode: "cors", credentials: "omit",
          headers: { "content-type": "application/json", authorization: "Bearer " + token, accept: "text/event-stream" },
          body: JSON.stringify({ key: key, message: text, conversation_id: state.conversation_id || null }),
        });
      }).then(function (response) {
        if (response.status === 429) throw new Error("You are sending messages quickly; please wait a moment.");
        if (!response.ok || !response.body) throw new Error("The assistant is unavailable right now (" + response.status + ").");
        return stream(response.body.getReader(), answer);
      }).catch(function (error) {
        answer.body.textContent = error.message;
      }).then(function () {
        answer.node.removeAttribute("aria-busy");
        busy = false;
        send.disabled = false;
        input.focus();
      });
    });

    function stream(reader, answer) {
      var decoder = new TextDecoder();
      var buffer = "";
      function handle(block) {
        var name = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (!data.length) return;
        var payload;
        try { payload = JSON.parse(data.join("\n")); } catch (e) { return; }
        if (name === "started") {
          state.conversation_id = payload.conversation_id;
          shown[payload.question_message_id] = true;
          save(state);
        } else if (name === "token") {
          answer.body.textContent += payload.text;
          log.scrollTop = log.scrollHeight;
        } else if (name === "replace") {
          answer.body.textContent = payload.text;
        } else if (name === "citations") {
          addCitations(answer, payload.citations);
        } else if (name === "escalation" && payload.escalated) {
          note(answer, "A person from our team will reply here.");
        } else if (name === "done") {
          answer.body.textContent = payload.answer;
          shown[payload.message_id] = true;
          state.last_message_id = Math.max(state.last_message_id || 0, payload.message_id);
          save(state);
          answer.node.setAttribute("data-done", "true");
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            handle(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
          return pump();
        });
      }
      return pump();
    }

    host.setAttribute("data-ready", "true");
  }
})();
