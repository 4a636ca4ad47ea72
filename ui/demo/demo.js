// Loads the widget for the bot named in ?bot=, exactly as a customer's site would.
(() => {
  const bot = new URLSearchParams(location.search).get("bot");
  if (!bot) {
    document.getElementById("notice").hidden = false;
    return;
  }
  const s = document.createElement("script");
  s.src = "/widget.js";
  s.async = true;
  s.dataset.bot = bot;
  document.body.append(s);
})();
