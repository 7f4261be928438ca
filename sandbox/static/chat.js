// The sandbox chat page: talk to the official account as a test follower.
// Everything the account sends is read back from /sandbox/api/messages; text is always set with
// textContent (never innerHTML) so that a message can show nothing but text and safe links.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("sandbox-data").textContent);
  var current = data.current || "";
  var shown = "";
  var pollTimer = null;
  var POLL_MS = 2000;

  var conversation = document.getElementById("conversation");
  var picker = document.getElementById("picker");
  var userLabel = document.getElementById("chat-user");
  var typing = document.getElementById("typing");
  var input = document.getElementById("text-input");
  var toast = document.getElementById("toast");

  var menuNames = {};
  document.querySelectorAll(".sbx-menu__button").forEach(function (b) {
    menuNames[b.dataset.key || b.dataset.url] = b.textContent.trim();
  });

  function userOf(openid) {
    return data.users.find(function (u) { return u.openid === openid; });
  }

  function showToast(text) {
    toast.textContent = text;
    toast.hidden = false;
    setTimeout(function () { toast.hidden = true; }, 3000);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function safeLink(href, text) {
    var a = el("a", "", text);
    if (/^https?:\/\//i.test(href)) { a.href = href; }
    return a;
  }

  // WeChat shows <a href="…">…</a> in a text message as a link, and bare URLs too.
  function richText(text) {
    var box = el("div", "sbx-text");
    var pattern = /<a\s+href=["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>|(https?:\/\/[^\s<>"']+)/gi;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      box.appendChild(document.createTextNode(text.slice(last, match.index)));
      box.appendChild(match[1] ? safeLink(match[1], match[2]) : safeLink(match[3], match[3]));
      last = pattern.lastIndex;
    }
    box.appendChild(document.createTextNode(text.slice(last)));
    return box;
  }

  function bubble(side, kind, content) {
    var row = el("div", "sbx-msg sbx-msg_" + side + " sbx-msg_" + kind);
    var b = el("div", "sbx-bubble");
    b.appendChild(content);
    row.appendChild(b);
    return row;
  }

  function notice(text) {
    return el("div", "sbx-notice", text);
  }

  function sentItem(m) {
    if (m.msgtype === "text") { return bubble("right", "sent", richText(m.content)); }
    var what = {
      subscribe: "你关注了公众号",
      unsubscribe: "你取消关注了公众号",
      click: "你点击了菜单「" + (menuNames[m.event_key] || m.event_key) + "」",
      view: "你打开了菜单「" + (menuNames[m.event_key] || m.event_key) + "」"
    }[m.event] || ("事件 " + m.event);
    return notice(what);
  }

  function articlesCard(articles) {
    var box = el("div", "sbx-news");
    articles.forEach(function (a) {
      var item = el("div", "sbx-news__item");
      item.appendChild(el("div", "sbx-news__title", a.title));
      if (a.description) { item.appendChild(el("div", "sbx-muted", a.description)); }
      if (a.url) { item.appendChild(safeLink(a.url, "阅读全文")); }
      box.appendChild(item);
    });
    return box;
  }

  function fieldValue(value) {
    return (value && typeof value === "object") ? String(value.value) : String(value);
  }

  function templateCard(m) {
    var spec = data.templates[m.template_id] || { title: "模板消息", fields: {} };
    var card = el("div", "sbx-card");
    card.appendChild(el("div", "sbx-card__title", spec.title));
    var fields = m.data || {};
    Object.keys(fields).forEach(function (name) {
      var row = el("div", "sbx-card__row");
      row.appendChild(el("span", "sbx-card__label", spec.fields[name] || name));
      row.appendChild(el("span", "sbx-card__value", fieldValue(fields[name])));
      card.appendChild(row);
    });
    if (m.url) {
      var more = safeLink(m.url, "详情");
      more.className = "sbx-card__more";
      card.appendChild(more);
    }
    return bubble("left", "template", card);
  }

  // A customer-service message, as /cgi-bin/message/custom/send received it.
  function customItem(m) {
    if (m.msgtype === "news" && m.news) { return bubble("left", "custom", articlesCard(m.news.articles || [])); }
    var text = (m.text && m.text.content) || m.content || "";
    return bubble("left", "custom", richText(text));
  }

  function render(m) {
    var kind = m.type || m.kind || "";
    if (kind === "sent") { return sentItem(m); }
    if (kind === "notice") { return notice(m.content); }
    if (kind === "reply") {
      return bubble("left", "reply", m.msgtype === "news" ? articlesCard(m.articles || []) : richText(m.content));
    }
    if (kind === "template" || m.template_id) { return templateCard(m); }
    return customItem(m);
  }

  function renderAll(messages) {
    var key = JSON.stringify(messages);
    if (key === shown) { return; }
    shown = key;
    conversation.textContent = "";
    if (!messages.length) { conversation.appendChild(notice("还没有消息。发送“帮助”试试。")); }
    messages.forEach(function (m) { conversation.appendChild(render(m)); });
    conversation.scrollTop = conversation.scrollHeight;
  }

  function refresh() {
    if (!current) { return Promise.resolve(); }
    var openid = current;
    return fetch("/sandbox/api/messages?conversation=1&openid=" + encodeURIComponent(openid))
      .then(function (r) { return r.json(); })
      .then(function (body) { if (openid === current && body.messages) { renderAll(body.messages); } })
      .catch(function () { /* the next poll tries again */ });
  }

  function choose(openid) {
    current = openid;
    shown = "";
    document.cookie = data.cookie + "=" + encodeURIComponent(openid) + "; path=/sandbox; max-age=2592000; samesite=lax";
    var user = userOf(openid);
    userLabel.textContent = user ? user.nickname : openid;
    picker.hidden = true;
    refresh();
    if (!pollTimer) { pollTimer = setInterval(refresh, POLL_MS); }
  }

  function send(payload) {
    if (!current) { showToast("请先选择一位用户"); return Promise.resolve(null); }
    payload.openid = current;
    typing.hidden = false;
    return fetch("/sandbox/api/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { showToast(body.message || "发送失败"); }
        return body;
      });
    }).catch(function () {
      showToast("发送失败：沙盒没有回应");
      return null;
    }).then(function (body) {
      typing.hidden = true;
      return refresh().then(function () { return body; });
    });
  }

  document.querySelectorAll(".sbx-pick").forEach(function (b) {
    b.addEventListener("click", function () { choose(b.dataset.openid); });
  });

  document.getElementById("switch-user").addEventListener("click", function () {
    picker.hidden = !picker.hidden;
  });

  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    send({ type: "text", content: text });
  });

  document.querySelectorAll("[data-toggle=sub]").forEach(function (top) {
    top.addEventListener("click", function () {
      var sub = top.nextElementSibling;
      document.querySelectorAll(".sbx-menu__sub").forEach(function (s) { if (s !== sub) { s.hidden = true; } });
      sub.hidden = !sub.hidden;
    });
  });

  document.querySelectorAll(".sbx-menu__button").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll(".sbx-menu__sub").forEach(function (s) { s.hidden = true; });
      if (b.dataset.type === "view") {
        // WeChat reports the VIEW event and opens the page in its browser.
        send({ type: "view", event_key: b.dataset.url }).then(function () {
          window.location.href = b.dataset.url;
        });
      } else {
        send({ type: "click", event_key: b.dataset.key });
      }
    });
  });

  document.querySelectorAll("[data-event]").forEach(function (b) {
    b.addEventListener("click", function () { send({ type: b.dataset.event }); });
  });

  if (current) { choose(current); } else { conversation.appendChild(notice("请先在上方选择一位测试用户。")); }
})();
