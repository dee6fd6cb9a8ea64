"""The notebook path: a user's first cells run in a real Jupyter kernel (nbclient)."""

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import math, numpy as np, xarray as xr, xr_spdc",
    'ds = xr.Dataset(coords={"phi": np.arange(-7, 3, 0.5) * np.pi,\n'
    '                        "xi": 10 ** np.arange(-1.5, 2.5, 0.5)})\n'
    "o = ds.spdc.overlap(workers=2)\n"
    "print(o.dims, o.dtype)",
    # A function defined in a cell runs on the pool (cloudpickle), and a lambda too.
    "def seed(l, phi, xi):\n"
    "    return np.exp(0.5j * phi * l) / (1 - 1j * xi * l) * math.sqrt(xi)\n"
    "mine = ds.spdc.integrate(seed, workers=2)\n"
    "print(float(abs(mine - o).max() / abs(o).max()) < 1e-8)",
    "peak = ds.isel(phi=0).spdc.integrate(lambda l, xi: 1 / (1 + (xi * l) ** 2), workers=2)\n"
    "print(peak.sizes['xi'])",
    "import matplotlib\nmatplotlib.use('Agg')\n"
    "drawn = o.spdc.plot()\nprint(drawn.axes.get_xlabel())",
]


@pytest.mark.slow
def test_a_notebook_runs_the_readme_path_on_a_pool(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    out = ["".join(o.get("text", "") for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
           for cell in nb.cells]
    assert out[1] == "('phi', 'xi') complex128\n"
    assert out[2] == "True\n"
    assert out[3] == "8\n"
    assert out[4] == "phase mismatch φ/π\n"
    errors = [o for cell in nb.cells for o in cell.outputs if o.get("output_type") == "error"]
    assert not errors
