"""Inputs flattened over a grid without being broadcast: each block forms its own points."""

from __future__ import annotations

import pickle
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import xr_spdc
from xr_spdc.engine.flattened import Flattened


@st.composite
def grids(draw):
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=4)))
    varies = [draw(st.booleans()) for _ in shape]
    sizes = [n if v else 1 for n, v in zip(shape, varies, strict=True)]
    values = np.arange(1.0, 1.0 + np.prod(sizes)).reshape(sizes)
    size = int(np.prod(shape))
    start = draw(st.integers(0, size))
    stop = draw(st.integers(start, size))
    return values, shape, start, stop


@given(grids())
def test_a_block_is_the_broadcast_grids_flat_points(case):
    values, shape, start, stop = case
    whole = np.broadcast_to(values, shape).ravel()
    flat = Flattened(values, shape)
    assert len(flat) == whole.size
    block = flat[start:stop]
    assert len(block) == stop - start
    np.testing.assert_array_equal(np.asarray(block), whole[start:stop])
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(block))),
                                  whole[start:stop])
    if stop > start:
        assert block[0] == whole[start] and block[-1] == whole[stop - 1]
        np.testing.assert_array_equal(np.asarray(block[1:]), whole[start + 1:stop])


class _Recording(ThreadPoolExecutor):
    """An executor that records the pickled size of every task it is given."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.sizes: list[int] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.sizes.append(len(pickle.dumps((args, kwargs))))
        return super().submit(fn, *args, **kwargs)


def test_a_pool_block_carries_the_coordinates_not_the_broadcast_grid():
    # 10⁶ points of φ × ξ: each 65,536-point block carried 1 MB of flattened inputs
    # (16 MB a call through the pool's pipes); now the two 8 kB coordinates.
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 1000) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 1000)})
    with _Recording() as executor:
        out = ds.spdc.overlap(workers=executor)
    assert len(executor.sizes) == 16
    assert max(executor.sizes) < 20_000
    np.testing.assert_array_equal(out.values, ds.spdc.overlap(workers=1).values)
    # a full 2-D input still travels flattened, a block's part of it each
    full = xr.DataArray(np.linspace(0.1, 9.0, 300 * 400).reshape(300, 400), dims=("a", "b"))
    with _Recording() as executor:
        two = xr_spdc.overlap(phi=full, xi=full, workers=executor)
    assert max(executor.sizes) > 2 * 8 * 65536 // 2
    np.testing.assert_array_equal(two.values,
                                  xr_spdc.overlap(phi=full, xi=full, workers=1).values)
