// Browser notifications: in-page ones for `notification` frames while the inbox is open, and a
// Web Push subscription (through the service worker) for when it is closed.

import { get, post } from "./api.js";
import { toast } from "./dom.js";

function urlBase64ToBytes(s) {
  const b = atob((s + "=".repeat((4 - (s.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/// Shows a notification frame from the server. Clicking it opens the chat.
export function show(data, navigate) {
  if ("Notification" in window && Notification.permission === "granted") {
    const n = new Notification(data.title, { body: data.body, tag: data.tag, icon: "/app/favicon.svg" });
    n.onclick = () => {
      window.focus();
      if (data.url) navigate(data.url);
      n.close();
    };
  } else {
    toast(`${data.title}${data.body ? ` — ${data.body}` : ""}`);
  }
}

/// Registers the service worker and this browser's push subscription. Resolves with a short
/// description of the outcome (push needs a push service the browser can reach).
export async function enablePush() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return "This browser does not support push notifications.";
  try {
    const reg = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    await navigator.serviceWorker.ready;
    const { key } = await get("/api/push/vapid-public-key");
    const sub = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToBytes(key) }));
    const json = sub.toJSON();
    await post("/api/me/push-subscriptions", { endpoint: json.endpoint, keys: json.keys });
    return "Push notifications are on for this browser.";
  } catch (e) {
    return `Push is not available here (${e.message}). You still get notifications while the inbox is open.`;
  }
}

/// Asks for permission (once) and sets push up when granted.
export async function enable() {
  const p = await Notification.requestPermission();
  if (p === "granted") enablePush();
  return p;
}
