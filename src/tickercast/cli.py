"""`tickercast`: one command for every process of the project.

tickercast model   the forecasting model service
tickercast web     the web app, reaching the model service at MODEL_API_URL
tickercast up      both on this machine, for a first run
tickercast refresh ask ahead for the forecasts and backtests the ticker pages will ask for
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tickercast import __version__


def _model_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("model", help="serve the forecasting model service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--mock", action="store_true", help="cheap deterministic forecasts, no Prophet")
    p.set_defaults(func=_run_model)


def _run_model(args: argparse.Namespace) -> int:
    from tickercast.model.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, mock=args.mock)


def _web_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("web", help="serve the web app (needs MODEL_API_URL and MODEL_API_KEY)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(func=_run_web)


def _run_web(args: argparse.Namespace) -> int:
    from tickercast.web.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers)


def _up_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="run the model service and the web app together")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--mock", action="store_true", help="use the mock model (no Prophet)")
    p.set_defaults(func=_run_up)


def _run_up(args: argparse.Namespace) -> int:
    from tickercast.up import up

    return up(host=args.host, port=args.port, mock=args.mock)


def _refresh_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "refresh",
        help="fetch prices and ask for the forecasts and backtests the pages will ask for "
        "(the web app's settings)",
    )
    p.add_argument("tickers", nargs="*", metavar="TICKER", help="default: every listed ticker")
    p.add_argument("--concurrency", type=int, default=4, help="pages at a time (default 4)")
    p.add_argument(
        "--periods",
        type=int,
        nargs="+",
        metavar="H",
        help="forecast horizons in sessions (default: the ticker page's)",
    )
    p.add_argument(
        "--windows",
        nargs="+",
        metavar="W",
        help="history windows (default: the ticker page's)",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="M",
        help="forecast methods, calibrated or prophet (default: the ticker page's)",
    )
    p.set_defaults(func=_run_refresh)


def _run_refresh(args: argparse.Namespace) -> int:
    from tickercast.web.refresh import main

    return main(args.tickers, args.windows, args.periods, args.concurrency, args.methods)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickercast", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tickercast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _model_parser(sub)
    _web_parser(sub)
    _up_parser(sub)
    _refresh_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
