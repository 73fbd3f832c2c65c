// Package web holds the battle map: the page that dispatchers and planners
// work on, served by citygrid itself from assets embedded in the binary.
//
// The page (static/index.html, static/app.css, static/js/*.js) draws
// citygrid's own vector tiles with MapLibre GL JS, vendored under
// static/vendor/maplibre-gl (BSD-3-Clause, see its LICENSE.txt), so nothing
// is fetched from a CDN or the internet at run time. Labels need glyphs:
// digits and Latin letters come from the signed-distance-field ranges in
// fonts/ (generated from the Go fonts by tools/glyphs, licence in
// fonts/LICENSE); Chinese names are drawn with the browser's own CJK fonts
// through MapLibre's localIdeographFontFamily.
//
// The page and its files are public and hold no case data; everything the
// page shows comes from the API, which needs a key (Authorization: Bearer).
// The page asks for one with a small sign-in form, keeps it for the tab in
// sessionStorage, sends it with every request and every tile request, opens
// the live stream with single-use tickets (EventSource cannot send a
// header), and shows the views and controls GET /v1/me says the key's role
// may use.
//
// The package imports only the standard library; httpapi mounts Handler.
package web
