// Shows the page in the browser's own time zone when the link did not name
// one: a plain GET of the same page with ?tz=, so the page works without it.
(function () {
  var select = document.getElementById("tz");
  if (!select || new URLSearchParams(location.search).has("tz")) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === select.getAttribute("data-zone")) return;
  var url = new URL(location.href);
  url.searchParams.set("tz", zone);
  location.replace(url.toString());
})();
