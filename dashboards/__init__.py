"""The Dash dashboard, mounted on Lookout's Flask server at ``/``.

``init_app(flask_app, runtime)`` builds one Dash app per Flask app (no module
globals, so tests can build several), one module per page under ``pages/``.
Every read goes through :mod:`dashboards.fetch`; a page's refresh callback
updates its figures in place when the URL's range, the auto-refresh tick or
the colour mode changes.
"""
from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update
from flask import Flask

from dashboards import bucket_cache, storebanner, theme, timerange
from dashboards.context import DashboardRuntime, Page
from dashboards.pages import alerts, cache, latency, overview, postgres, revenue

# The page registry, in navigation order: a new page is one module and one entry here.
PAGES: tuple[Page, ...] = (overview, revenue, cache, latency, postgres, alerts)
PAGE_PATHS: tuple[str, ...] = tuple(p.PATH for p in PAGES)


def init_app(server: Flask, runtime: DashboardRuntime) -> Dash:
    theme.serve_static(server)
    bucket_cache.for_runtime(runtime)  # the process's kept buckets, shared by every page and thread
    app = Dash(
        # Dash's own hints are narrower than its documented API (a Flask server; update_title=None).
        "lookout.dashboards", server=server, url_base_pathname="/", title="Lookout",  # type: ignore[arg-type]
        external_stylesheets=[theme.CSS_URL, "/_lookout/static/lookout.css"],
        suppress_callback_exceptions=True,  # page components exist only while their page is shown
        update_title=None, assets_folder="__no_assets__", serve_locally=True,  # type: ignore[arg-type]
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = theme.shell([(p.PATH, p.TITLE) for p in PAGES])
    refreshers = {p.PATH: p.register(app, runtime) for p in PAGES}
    _register_shell(app, runtime)
    storebanner.register(app, runtime)
    server.extensions["lookout_dash"] = app
    server.extensions["lookout_dash_refreshers"] = refreshers
    return app


def _register_shell(app: Dash, runtime: DashboardRuntime) -> None:
    by_path = {p.PATH: p for p in PAGES}

    @app.callback(Output("page", "children"), Output("current-path", "data"),
                  Input("url", "pathname"), State("current-path", "data"))
    def route(pathname: str | None, current: str | None):
        path = (pathname or "/").rstrip("/") or "/"
        if path == current:
            return no_update, no_update  # only the query string changed: keep the page, refresh its data
        page = by_path.get(path)
        if page is None:
            return html.Div([html.H4("Not found"), html.P(f"There is no page at {path}.")]), path
        return page.layout(runtime), path

    @app.callback(
        Output("url", "search"), Output("range-select", "value"), Output("refresh-select", "value"),
        Output("custom-from", "value"), Output("custom-to", "value"), Output("custom-group", "className"),
        Output("tick", "interval"), Output("tick", "disabled"),
        Input("url", "search"), Input("range-select", "value"), Input("refresh-select", "value"),
        Input("custom-from", "value"), Input("custom-to", "value"),
    )
    def sync_view(search, rng, refresh, c_from, c_to):
        """URL -> controls on load and back/forward; controls -> URL when someone picks."""
        from dash import ctx
        now = runtime.clock()
        trig = ctx.triggered_id
        new_search: Any = no_update
        if trig in (None, "url"):
            v = timerange.parse_search(search, now)
        else:
            if rng == "custom" and not (c_from and c_to):
                cur = timerange.parse_search(search, now)
                c_from, c_to = timerange.iso_minute(cur.start), timerange.iso_minute(cur.end)
            v = timerange.parse_search(timerange.to_search(rng, refresh, c_from or "", c_to or ""), now)
            new_search = v.search()
            if new_search == (search or ""):
                new_search = no_update
        style = "d-flex gap-1" if v.range == "custom" else "d-none"
        interval = v.interval_ms or 60_000
        return (new_search, v.range, v.refresh, v.custom_from or no_update, v.custom_to or no_update, style,
                interval, v.interval_ms is None)

    # Page links keep the view: ?range=... travels with the navigation.
    @app.callback([Output(f"nav-{theme._slug(p.PATH)}", "href") for p in PAGES], Input("url", "search"))
    def nav_links(search):
        return [p.PATH + (search or "") for p in PAGES]

    app.clientside_callback(
        """function(dark) {
            const mode = dark ? 'dark' : 'light';
            document.documentElement.setAttribute('data-bs-theme', mode);
            return mode;
        }""",
        Output("theme", "data"), Input("dark-switch", "value"),
    )
    app.clientside_callback(
        "function(n, open) { return n ? !open : open; }",
        Output("nav-collapse", "is_open"), Input("nav-toggle", "n_clicks"), State("nav-collapse", "is_open"),
    )
