// The sandbox page: draws what the server renders and sends what the person does.
// All HTML inserted below comes from the server's Block Kit renderer, which escapes every text;
// this script never builds markup from message content itself.

const state = {
  user: null,
  channel: null,
  thread: null,
  people: [],
  seen: JSON.parse(sessionStorage.getItem("kpibot-seen") || "{}"),
  dismissed: new Set(),
  inFlight: 0,
  refreshTimer: null,
  refreshing: false,
  refreshAgain: false,
};

const $ = (id) => document.getElementById(id);

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { user: params.get("user"), channel: params.get("channel"), thread: params.get("thread") };
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.user) params.set("user", state.user);
  if (state.channel) params.set("channel", state.channel);
  if (state.thread) params.set("thread", state.thread);
  history.replaceState(null, "", "#" + params.toString());
}

async function api(path, body) {
  const options = body === undefined
    ? { headers: { Accept: "application/json" } }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `HTTP ${response.status}` };
  }
  if (!response.ok || data.ok === false) {
    throw new Error(data.error || `HTTP ${response.status}`);
  }
  return data;
}

function toast(message, kind = "info") {
  const node = document.createElement("div");
  node.className = `toast toast-${kind}`;
  node.textContent = message;
  $("toasts").appendChild(node);
  setTimeout(() => node.remove(), kind === "error" ? 9000 : 5000);
}

function busy(delta) {
  state.inFlight += delta;
  document.body.classList.toggle("busy", state.inFlight > 0);
}

// ------------------------------------------------------------------ drawing

function nearBottom(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

function drawSidebar(view) {
  const channels = $("channel-list");
  const dms = $("dm-list");
  channels.replaceChildren();
  dms.replaceChildren();
  for (const channel of view.channels) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "channel-item";
    button.dataset.channel = channel.id;
    const icon = document.createElement("span");
    icon.className = "channel-icon";
    icon.textContent = channel.kind === "dm" ? "●" : "#";
    const name = document.createElement("span");
    name.className = "channel-name";
    name.textContent = channel.name;
    button.append(icon, name);
    const seen = state.seen[`${state.user}:${channel.id}`] ?? 0;
    if (channel.id !== state.channel && channel.count > seen) {
      button.classList.add("unread");
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(channel.count - seen);
      button.append(badge);
    }
    if (channel.id === state.channel) button.classList.add("active");
    li.append(button);
    (channel.kind === "dm" ? dms : channels).append(li);
  }
  $("home-link").classList.toggle("active", state.channel === "home");
}

function drawUsers(view) {
  const select = $("user-switch");
  const key = JSON.stringify(view.people);
  if (select.dataset.key !== key) {
    select.replaceChildren();
    for (const person of view.people) {
      const option = document.createElement("option");
      option.value = person.id;
      option.textContent = person.role ? `${person.name} — ${person.role}` : person.name;
      select.append(option);
    }
    select.dataset.key = key;
  }
  select.value = state.user;
}

// Images (charts) arrive after the HTML: keep a list that was scrolled to the bottom at the bottom.
function stickToBottom(container, stick) {
  if (!stick) return;
  container.scrollTop = container.scrollHeight;
  for (const img of container.querySelectorAll("img")) {
    if (!img.complete) {
      img.addEventListener("load", () => { container.scrollTop = container.scrollHeight; }, { once: true });
    }
  }
}

function hideDismissed(root) {
  for (const node of root.querySelectorAll(".msg-ephemeral")) {
    if (state.dismissed.has(node.dataset.ts)) node.remove();
  }
}

function draw(view) {
  state.people = view.people;
  drawUsers(view);
  drawSidebar(view);
  if (!$("as-of").value) $("as-of").value = view.today;
  $("as-of").max = view.today;

  const isHome = state.channel === "home";
  $("messages").hidden = isHome;
  $("composer-wrap").hidden = isHome;
  $("home").hidden = !isHome;
  if (isHome) {
    $("channel-title").textContent = "KPI Bot · Home";
    $("channel-purpose").textContent = "The App Home tab, as this person sees it";
    if (view.home_html) {
      $("home").innerHTML = view.home_html;
    } else {
      $("home").innerHTML = '<div class="empty">Opening the Home tab…</div>';
    }
    $("thread-panel").hidden = true;
    return;
  }

  const channel = view.channels.find((c) => c.id === state.channel);
  $("channel-title").textContent = channel ? (channel.kind === "dm" ? channel.name : `#${channel.name}`) : state.channel;
  $("channel-purpose").textContent = channel && channel.purpose ? channel.purpose : (channel && channel.kind === "dm" ? "Direct message with the bot" : "");
  if (channel) {
    state.seen[`${state.user}:${channel.id}`] = channel.count;
    sessionStorage.setItem("kpibot-seen", JSON.stringify(state.seen));
  }

  const list = $("messages");
  const freshChannel = list.dataset.channel !== `${state.user}:${state.channel}`;
  const stick = freshChannel || nearBottom(list);
  if (view.messages_html) {
    patchChildren(list, view.messages_html);
  } else {
    list.replaceChildren(emptyCard(view.empty));
    markup.delete(list);
  }
  list.dataset.channel = `${state.user}:${state.channel}`;
  hideDismissed(list);
  stickToBottom(list, stick);

  const panel = $("thread-panel");
  if (state.thread && view.thread_html !== undefined) {
    panel.hidden = false;
    $("thread-channel").textContent = channel ? `#${channel.name}` : "";
    const body = $("thread-body");
    const stickThread = body.dataset.thread !== state.thread || nearBottom(body);
    patchChildren(body, view.thread_html);
    body.dataset.thread = state.thread;
    hideDismissed(body);
    stickToBottom(body, stickThread);
  } else {
    panel.hidden = true;
    $("thread-body").dataset.thread = "";
  }
}

// Every poll brings the whole conversation as HTML. Replacing it wholesale would reload each image
// and swap every node under the reader's cursor (and under any script holding one), so a message whose
// markup did not change keeps its live node; only new or edited ones are swapped in.
const markup = new WeakMap();  // container or node -> the HTML it was drawn from

function patchChildren(container, html) {
  if (markup.get(container) === html) return;
  const template = document.createElement("template");
  template.innerHTML = html;
  const live = new Map();
  for (const node of container.children) {
    const key = markup.get(node);
    if (key !== undefined && !live.has(key)) live.set(key, node);
  }
  const next = [...template.content.children].map((fresh) => {
    const key = fresh.outerHTML;
    const kept = live.get(key);
    if (kept) {
      live.delete(key);
      return kept;
    }
    markup.set(fresh, key);
    return fresh;
  });
  // Leave the nodes already in place where they are; insert or move only the ones that differ.
  next.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > next.length) container.lastElementChild.remove();
  markup.set(container, html);
}

// An empty conversation suggests what to do there (built from text, never from HTML).
function emptyCard(empty) {
  const card = document.createElement("div");
  card.className = "empty-card";
  if (!empty) return card;
  const title = document.createElement("h2");
  title.textContent = empty.title;
  const text = document.createElement("p");
  text.textContent = empty.text;
  const actions = document.createElement("div");
  actions.className = "empty-actions";
  for (const action of empty.actions || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "empty-action";
    if (action.command) button.dataset.runCommand = action.command;
    if (action.job) button.dataset.job = action.job;
    const label = document.createElement(action.command ? "code" : "span");
    label.textContent = action.label;
    button.append(label);
    if (action.hint) {
      const hint = document.createElement("span");
      hint.className = "empty-hint";
      hint.textContent = action.hint;
      button.append(hint);
    }
    actions.append(button);
  }
  card.append(title, text, actions);
  return card;
}

async function runCommand(text) {
  busy(1);
  showPending(`Sending ${text} …`);
  try {
    const result = await api("/api/command", { user: state.user, channel: state.channel, text });
    if (result.message) toast(result.message, result.warning ? "warn" : "info");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    showPending("");
    busy(-1);
  }
}

async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  try {
    const params = new URLSearchParams({ user: state.user, channel: state.channel });
    if (state.thread && state.channel !== "home") params.set("thread", state.thread);
    const view = await api(`/api/view?${params}`);
    draw(view);
    document.body.dataset.ready = "1";
  } catch (error) {
    toast(`Could not load the workspace: ${error.message}`, "error");
  } finally {
    state.refreshing = false;
    if (state.refreshAgain) {
      state.refreshAgain = false;
      refresh();
    }
  }
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, 40);
}

// ------------------------------------------------------------------ navigation

async function openHome() {
  // Slack sends app_home_opened each time the tab is opened; the bot answers with views.publish.
  try {
    await api("/api/home", { user: state.user });
  } catch (error) {
    toast(`Home tab: ${error.message}`, "error");
  }
}

function select(channel, thread = null) {
  state.channel = channel;
  state.thread = thread;
  writeHash();
  refresh();
  if (channel === "home") openHome();
}

// ------------------------------------------------------------------ doing

function showPending(text) {
  const pending = $("pending");
  pending.textContent = text;
  pending.hidden = !text;
}

async function submitComposer(event) {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text) return;
  const isCommand = text.startsWith("/");
  input.value = "";
  busy(1);
  if (isCommand) showPending(`Sending ${text} …`);
  try {
    if (isCommand) {
      const result = await api("/api/command", { user: state.user, channel: state.channel, text });
      if (result.message) toast(result.message, result.warning ? "warn" : "info");
    } else {
      await api("/api/message", { user: state.user, channel: state.channel, text });
    }
  } catch (error) {
    input.value = text;
    toast(error.message, "error");
  } finally {
    showPending("");
    busy(-1);
    input.focus();
  }
}

async function submitThreadReply(event) {
  event.preventDefault();
  const input = $("thread-input");
  const text = input.value.trim();
  if (!text || !state.thread) return;
  input.value = "";
  try {
    await api("/api/message", { user: state.user, channel: state.channel, text, thread_ts: state.thread });
  } catch (error) {
    input.value = text;
    toast(error.message, "error");
  }
}

async function pressButton(button) {
  const message = button.closest(".msg");
  const onHome = !message && button.closest("#home");
  if (!message && !onHome) return;
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
  button.disabled = true;
  button.classList.add("pressed");
  busy(1);
  try {
    const result = await api("/api/action", {
      user: state.user,
      channel: message ? message.dataset.channel : "home",
      ts: message ? message.dataset.ts : "",
      action_id: button.dataset.actionId,
      value: button.dataset.value || "",
      block_id: button.dataset.blockId || "",
    });
    if (result.message) toast(result.message, result.warning ? "warn" : "info");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    busy(-1);
    // The message is usually redrawn by now; if not, make the button usable again.
    button.disabled = false;
    button.classList.remove("pressed");
  }
}

async function runJob(which, button) {
  const asOf = $("as-of").value;
  button.disabled = true;
  busy(1);
  const label = which === "digest" ? "Digest" : "Alerts";
  try {
    const result = await api(`/api/${which}`, { as_of: asOf });
    toast(result.message || `${label} done`, result.warning ? "warn" : "info");
  } catch (error) {
    toast(`${label}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
    busy(-1);
  }
}

function onClick(event) {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const channelButton = target.closest(".channel-item");
  if (channelButton) {
    select(channelButton.dataset.channel);
    return;
  }
  const dismiss = target.closest("[data-dismiss]");
  if (dismiss) {
    const message = dismiss.closest(".msg");
    if (message) {
      state.dismissed.add(message.dataset.ts);
      message.remove();
    }
    return;
  }
  const threadLink = target.closest(".thread-link");
  if (threadLink) {
    state.thread = threadLink.dataset.threadTs;
    writeHash();
    refresh();
    return;
  }
  const actionButton = target.closest("button.bk-button[data-action-id]");
  if (actionButton && !actionButton.disabled) {
    pressButton(actionButton);
    return;
  }
  const run = target.closest("[data-run-command]");
  if (run) {
    runCommand(run.dataset.runCommand);
    return;
  }
  const job = target.closest("[data-job]");
  if (job) {
    runJob(job.dataset.job, $(job.dataset.job === "digest" ? "send-digest" : "run-alerts"));
    return;
  }
  const suggestion = target.closest("[data-suggest]");
  if (suggestion) {
    const input = $("composer-input");
    input.value = suggestion.dataset.suggest;
    input.focus();
  }
}

function connectEvents() {
  let polling = null;
  const source = new EventSource("/api/events");
  source.onmessage = scheduleRefresh;
  source.addEventListener("hello", () => {
    clearInterval(polling);
    polling = null;
    scheduleRefresh();
  });
  source.onerror = () => {
    // The browser reconnects by itself; poll meanwhile so the page never goes stale.
    if (!polling) polling = setInterval(refresh, 2000);
  };
}

async function start() {
  const fromHash = readHash();
  // The first minute: the Head of Sales, in the DM with the bot, where "Try these" waits.
  const head = "U0ANNA";
  const boot = await api("/api/view?" + new URLSearchParams({ user: fromHash.user || head, channel: "home" }))
    .catch(() => null);
  const people = boot ? boot.people : [];
  const known = (id) => people.some((p) => p.id === id);
  state.user = known(fromHash.user) ? fromHash.user : (known(head) ? head : (people[0] || {}).id);
  const channels = boot ? boot.channels : [];
  const dm = channels.find((c) => c.kind === "dm");
  state.channel = fromHash.channel || (dm || channels[0] || {}).id || "home";
  state.thread = fromHash.thread;
  writeHash();

  document.addEventListener("click", onClick);
  $("composer").addEventListener("submit", submitComposer);
  $("thread-composer").addEventListener("submit", submitThreadReply);
  $("thread-close").addEventListener("click", () => {
    state.thread = null;
    writeHash();
    refresh();
  });
  $("user-switch").addEventListener("change", (event) => {
    state.user = event.target.value;
    state.dismissed.clear();
    // A DM is per person: follow the new person's DM with the bot.
    if (state.channel && state.channel.startsWith("D")) state.channel = "D" + state.user.replace(/^U/, "");
    state.thread = state.channel === "home" ? null : state.thread;
    writeHash();
    refresh();
    if (state.channel === "home") openHome();
  });
  $("send-digest").addEventListener("click", (event) => runJob("digest", event.currentTarget));
  $("run-alerts").addEventListener("click", (event) => runJob("alerts", event.currentTarget));

  connectEvents();
  await refresh();
  if (state.channel === "home") openHome();
}

start();
