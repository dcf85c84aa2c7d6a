"""The floor: CmdStan's optimizer alone on the Stan inputs Prophet makes for a frame.

Prophet's inputs (`preprocess`, `calculate_initial_params`) are computed and written as JSON
beforehand; only `CmdStanModel.optimize` is timed, with the algorithm and iteration count that
Prophet's `CmdStanPyBackend.fit` uses. That is what any Prophet-based service must pay per fit.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.timing import cpu_seconds


@functools.cache
def stan_model_backend() -> Any:
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).disabled = True
    from prophet import Prophet

    return Prophet().stan_backend


def stan_model() -> Any:
    return stan_model_backend().model  # the compiled model Prophet ships, path set up


def stan_inputs(frame: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prophet's Stan data and initial values for `frame`, as its `fit` hands them over."""
    from prophet import Prophet

    model = Prophet()
    inputs = model.preprocess(frame)
    init = model.calculate_initial_params(inputs.K)
    return dataclasses.asdict(inputs), dataclasses.asdict(init)


def write_inputs(frame: pd.DataFrame, folder: Path) -> tuple[Path, Path, dict[str, Any]]:
    """Prophet's Stan data and initial values for `frame`, as files, and the optimize args."""
    data, init = stan_inputs(frame)
    init_list, data_list = stan_model_backend().prepare_data(init, data)
    data_path, init_path = folder / "data.json", folder / "init.json"
    data_path.write_text(json.dumps(data_list))
    init_path.write_text(json.dumps(init_list))
    args = {"algorithm": "Newton" if data_list["T"] < 100 else "LBFGS", "iter": int(1e4)}
    return data_path, init_path, args


def optimize_seconds(frame: pd.DataFrame) -> float:
    """Seconds of one `optimize` call on the frame's Stan inputs."""
    return optimize_timed(frame)[0]


def optimize_timed(frame: pd.DataFrame) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and CmdStan's) of one `optimize` call."""
    model = stan_model()
    with tempfile.TemporaryDirectory(prefix="tickercast-floor-") as tmp:
        folder = Path(tmp)
        data_path, init_path, args = write_inputs(frame, folder)
        output = folder / "out"
        output.mkdir()
        cpu = cpu_seconds()
        started = time.perf_counter()
        model.optimize(data=str(data_path), inits=str(init_path), output_dir=str(output), **args)
        return time.perf_counter() - started, cpu_seconds() - cpu
