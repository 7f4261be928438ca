/* The few behaviours every page shares, without a framework:
   - data-confirm on a link or submit button asks first, in a WeUI dialog;
   - forms marked data-guard cannot be sent twice (a double tap, a slow network);
   - tabs whose links point at in-page panels (#id) switch panels without a reload;
   - App.toast(text) shows a short message; toasts rendered by the server fade out;
   - App.fetchJSON(url, options) sends the CSRF token from <meta name="csrf-token">. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function fadeOut(el, delay) {
    window.setTimeout(function () {
      el.classList.add("app-toast_fading");
      window.setTimeout(function () { el.remove(); }, 300);
    }, delay);
  }

  function toast(text, icon) {
    var wrap = document.createElement("div");
    wrap.className = "app-toast";
    wrap.setAttribute("role", "alert");
    wrap.innerHTML = '<div class="weui-mask_transparent"></div><div class="weui-toast">' +
      '<i class="weui-icon_toast"></i><p class="weui-toast__content"></p></div>';
    wrap.querySelector("i").classList.add("weui-icon-" + (icon || "success-no-circle"));
    wrap.querySelector("p").textContent = text;
    document.body.appendChild(wrap);
    fadeOut(wrap, 2000);
  }

  // A confirm dialog built on the fly; onOk runs when the user agrees.
  function confirmDialog(question, onOk) {
    var wrap = document.createElement("div");
    wrap.className = "app-dialog";
    wrap.setAttribute("role", "dialog");
    wrap.setAttribute("aria-modal", "true");
    wrap.innerHTML = '<div class="weui-mask"></div><div class="weui-dialog">' +
      '<div class="weui-dialog__bd"></div><div class="weui-dialog__ft">' +
      '<a href="#" class="weui-dialog__btn weui-dialog__btn_default" data-dialog-cancel>取消</a>' +
      '<a href="#" class="weui-dialog__btn weui-dialog__btn_primary" data-dialog-ok>确定</a>' +
      "</div></div>";
    wrap.querySelector(".weui-dialog__bd").textContent = question;
    wrap.addEventListener("click", function (event) {
      var target = event.target;
      if (target.closest("[data-dialog-ok]")) {
        event.preventDefault();
        wrap.remove();
        onOk();
      } else if (target.closest("[data-dialog-cancel]") || target.classList.contains("weui-mask")) {
        event.preventDefault();
        wrap.remove();
      }
    });
    document.body.appendChild(wrap);
  }

  // Dialogs written into the page by the dialog macro: open with App.openDialog(id, onOk).
  function openDialog(id, onOk) {
    var dialog = document.getElementById(id);
    if (!dialog) { return; }
    dialog.hidden = false;
    dialog.onclick = function (event) {
      if (event.target.closest("[data-dialog-ok]")) {
        event.preventDefault();
        dialog.hidden = true;
        if (onOk) { onOk(); }
      } else if (event.target.closest("[data-dialog-cancel]")) {
        event.preventDefault();
        dialog.hidden = true;
      }
    };
  }

  function lockForm(form, submitter) {
    form.dataset.sending = "1";
    // A disabled button is left out of the form data: carry the pressed one's name=value.
    form.querySelectorAll("input[data-carried]").forEach(function (old) { old.remove(); });
    if (submitter && submitter.name) {
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.setAttribute("data-carried", "");
      carried.name = submitter.name;
      carried.value = submitter.value;
      form.appendChild(carried);
    }
    form.querySelectorAll('button[type="submit"], input[type="submit"]').forEach(function (b) {
      b.disabled = true;
      b.classList.add("weui-btn_loading");
    });
  }

  function unlockForms() {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.querySelectorAll('button[type="submit"], input[type="submit"]').forEach(function (b) {
        b.disabled = false;
        b.classList.remove("weui-btn_loading");
      });
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-confirm]");
    if (link) {
      event.preventDefault();
      confirmDialog(link.dataset.confirm, function () { window.location.href = link.href; });
      return;
    }
    var back = event.target.closest("a[data-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    var tab = event.target.closest("[data-tab]");
    if (tab) {
      event.preventDefault();
      showTab(tab.dataset.tab);
      if (window.history.replaceState) { window.history.replaceState(null, "", "#" + tab.dataset.tab); }
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    var question = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (question && !form.dataset.confirmed) {
      event.preventDefault();
      confirmDialog(question, function () {
        form.dataset.confirmed = "1";
        if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      });
      return;
    }
    delete form.dataset.confirmed;
    if (form.hasAttribute("data-guard")) { lockForm(form, submitter); }
  });

  function showTab(key) {
    var panel = document.getElementById(key);
    if (!panel || !panel.hasAttribute("data-tab-panel")) { return; }
    document.querySelectorAll("[data-tab-panel]").forEach(function (p) { p.hidden = p !== panel; });
    document.querySelectorAll("[data-tab]").forEach(function (t) {
      var on = t.dataset.tab === key;
      t.classList.toggle("weui-bar__item_on", on);
      t.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  // Back from another page, the browser may restore this one with its forms still locked.
  window.addEventListener("pageshow", unlockForms);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-auto-hide]").forEach(function (el) { fadeOut(el, 2000); });
    if (window.location.hash) { showTab(window.location.hash.slice(1)); }
  });

  function fetchJSON(url, options) {
    var opts = options || {};
    var headers = Object.assign({ "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      opts.headers || {});
    if (opts.body && typeof opts.body !== "string" && !(opts.body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.body);
    }
    return fetch(url, Object.assign({ credentials: "same-origin" }, opts, { headers: headers }))
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            var error = new Error(data.message || "操作失败，请稍后重试。");
            error.code = data.error;
            throw error;
          }
          return data;
        });
      });
  }

  window.App = {
    toast: toast,
    confirm: confirmDialog,
    openDialog: openDialog,
    fetchJSON: fetchJSON,
    csrfToken: csrfToken
  };
})();
