"""Reports over results files: the terminal table (`table`), and `report` (`build.run_report`): summary.md, a cost
vs solve-rate PNG (`plot`) and a self-contained HTML page (`html`). Kept import-free: the CLI imports `table` at
start-up, and matplotlib is imported only when a plot is drawn."""
