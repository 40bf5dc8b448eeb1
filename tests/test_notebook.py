"""notebooks/quickstart.ipynb runs end to end, as stored (without outputs), on small generated checkpoints."""
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs_end_to_end(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "store the notebook without outputs"
    scratch = lambda: set(Path(tempfile.gettempdir()).glob("jaxtts-quickstart-*"))  # noqa: E731
    before = scratch()
    monkeypatch.setenv("JAXTTS_CACHE", str(tmp_path / "cache"))  # no published checkpoints: the small ones, offline
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    report = next(out.text for cell in code for out in cell.outputs if "text" in out and "reference:" in out.text)
    assert report.rstrip().endswith("PASS")
    assert scratch() == before, "the notebook removes its scratch directory"
