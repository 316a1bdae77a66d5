"""Lookout: entry point and CLI. Wires things together; does nothing at import.

    python app.py [--config config.yaml] [--host 127.0.0.1] [--port 8050] [--role all|web|worker]
    python app.py check-config [--config config.yaml]
    python app.py report [--since 7d] [--format html|md] [--out FILE]
    python app.py metrics [--kind postgres] [--config config.yaml]
    python app.py discover --postgres DSN --redis URL --app URL [--pgbouncer DSN] [--out FILE]
    python app.py reload [--config config.yaml]
    python app.py hash-password | hash-token
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from composition import metrics_cli
from composition.config import Config, load_config
from composition.runtime import ROLES, Runtime, build_runtime
from composition.webapp import make_flask_app
from core.errors import ConfigError
from core.logs import setup_logging
from core.masking import mask
from core.memory import freeze_startup_heap, limit_malloc_arenas
from discover import cli as discover_cli
from report import cli as report_cli
from webauth import cli as auth_cli

log = logging.getLogger("lookout")


def create_app(config: Config, *, role: str = "all", runtime: Runtime | None = None) -> Flask:
    """Build the Flask app and everything behind it; starts nothing."""
    runtime = runtime or build_runtime(config, role=role)
    return make_flask_app(runtime)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="Lookout: health dashboard for a web shop's backend.")
    p.add_argument("command", nargs="?", default="run",
                   choices=["run", "check-config", "scenario", "report", "metrics", "discover", "reload",
                            *auth_cli.COMMANDS],
                   help="run (default), check-config, scenario NAME [--off] on a running demo, report, "
                        "metrics (the catalogue), discover (a starter config), reload (a running Lookout)")
    p.add_argument("name", nargs="?", help="scenario name (with the scenario command)")
    p.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    p.add_argument("--host", help="bind address (default: server.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: server.port, 8050)")
    p.add_argument("--role", choices=ROLES, default="all",
                   help="all: everything in one process; web: dashboard and API; worker: collection")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="demo: switch this incident scenario on at start (repeatable)")
    p.add_argument("--off", action="store_true", help="with the scenario command: switch it off")
    p.add_argument("--log-level", default="INFO")
    auth_cli.add_arguments(p)
    report_cli.add_arguments(p)
    metrics_cli.add_arguments(p)
    discover_cli.add_arguments(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in auth_cli.COMMANDS:
        return auth_cli.run(args.command)
    if args.command == "discover":
        return discover_cli.run(args)
    try:
        # The catalogue is what one reads to fix a misspelt metric: it must not need the fix first.
        config = load_config(args.config, check=args.command != "metrics")
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if args.command == "check-config":
        print(f"{args.config}: OK ({len(config.targets)} targets)")
        return 0
    if args.command == "report":
        return report_cli.run(config, args)
    if args.command == "metrics":
        return metrics_cli.run(config, args)
    if args.command == "reload":
        from composition.reload_cli import run as reload

        return reload(config, args)
    if args.command == "scenario":
        from composition.demo_cli import switch_scenario

        return switch_scenario(config, args.name, on=not args.off, host=args.host, port=args.port)
    if args.scenario:
        from composition.demo_cli import with_scenarios

        config = with_scenarios(config, args.scenario)
    setup_logging(config.secret_values, args.log_level)
    # Before any thread starts: without it RSS creeps up in a long run (core/memory.py).
    limit_malloc_arenas()
    return serve(config, args)


def serve(config: Config, args: argparse.Namespace) -> int:
    import waitress

    host = args.host or config.server.host
    port = args.port or config.server.port
    if refusal := auth_cli.bind_refusal(config, host, args.allow_unauthenticated):
        print(refusal, file=sys.stderr)
        return 2
    try:
        runtime = build_runtime(config, role=args.role, config_path=args.config)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc  # the driver's message where there is one
        print(f"store: cannot open {mask(config.store_url(), config.secret_values)}: {cause}",
              file=sys.stderr)
        return 1
    app = make_flask_app(runtime)
    freeze_startup_heap()  # full GCs skip what start-up built (core/memory.py)
    # /metrics at 10,000 series is ~1 MB: keep it in memory instead of
    # waitress' default spill-to-tempfile above 1 MiB (bench: 3 ms -> 1 ms).
    server = waitress.create_server(app, host=host, port=port, threads=8, outbuf_overflow=8 * 1024 * 1024)
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("received %s, shutting down", signal.Signals(signum).name)
            # waitress' loop ends on SystemExit; closing only the listener would
            # leave it serving idle keep-alive connections (Prometheus, browsers).
            raise SystemExit(0)

    def reload(_signum: int, _frame: object) -> None:
        # Off the signal handler: a reload waits for a running alert evaluation (composition/reload.py).
        if runtime.reloader is not None:
            threading.Thread(target=runtime.reloader.reload, name="reload", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)  # reload the config file; a bad one is refused and logged
    try:
        runtime.start()
        url = f"http://{host}:{server.effective_port}"
        print(f"Lookout ({args.role}) on {url}\n  health:  {url}/api/health\n  metrics: {url}/metrics", flush=True)
        server.run()
    finally:
        server.close()
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
