"""The Prophet seam: everything of the model service that depends on Prophet's internals.

The rest of the service reaches Prophet only through here, so a Prophet release that changes
what this relies on breaks one package, and the versions it was checked against are named
in one place (`versions.py`, checked when the service starts). What it relies on:

- `forecasting.py`: Prophet fitted by CmdStan or in-process, with two private methods
  overridden (`fourier_series`, `regressor_column_matrix`), its stan backend replaced
  (`IStanBackend`, `_load_stan_backend`) and CmdStan's input written by us;
- `predict.py`: Prophet's `predict` reproduced on arrays from its fitted attributes (`params`,
  `start`, `t_scale`, `y_scale`, `changepoints_t`, `seasonalities`, `history`) and its
  `piecewise_linear`, drawing the same random numbers in the same order;
- `columns.py`: the contract's columns from Prophet's forecast column names;
- `fastfit.py`: Prophet's Stan model (`prophet.stan`) solved in-process;
- `design.py`: the Stan data Prophet's `preprocess` makes (scaling, automatic seasonalities,
  changepoint placement, initial params, the fit's after-steps), made from the dates with
  numpy for the fast engine.

Importing this package does not import Prophet: the mock engine runs without it.
"""
