"""The real allocation limit (issue 17): free memory, cgroup and ``ulimit -v`` (RLIMIT_AS)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from wedgenet import _resources
from wedgenet._resources import AllocationError, available_bytes, check_allocation
from wedgenet.dictionaries.memory import available_memory, default_memory_budget


def test_available_bytes_is_positive_and_bounded_by_meminfo():
    avail = available_bytes()
    assert avail > 0
    mem = _resources._meminfo_available()
    if mem is not None:
        assert avail <= mem


def test_check_allocation_raises_a_short_memory_and_value_error():
    with pytest.raises(AllocationError) as info:
        check_allocation(10**30, "test: a huge table")
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    assert "test: a huge table" in str(info.value) and len(str(info.value)) < 200
    check_allocation(1024, "test: a small table")  # no error


def test_dictionary_memory_guard_uses_the_real_limit():
    assert available_memory() == pytest.approx(available_bytes(), rel=0.05, abs=64 * 2**20)
    assert default_memory_budget() <= available_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux")
def test_rlimit_as_lowers_available_bytes():
    """Under ``ulimit -v`` the headroom is the limit minus the process's virtual size."""
    code = textwrap.dedent(
        """
        import importlib.util, resource, sys
        spec = importlib.util.spec_from_file_location("_resources", sys.argv[1])
        _resources = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_resources)  # the module alone: no numba import in the child
        vs = _resources._virtual_size()
        limit = vs + 300 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        avail = _resources.available_bytes()
        assert 0 < avail <= 300 * 2**20, avail
        try:
            _resources.check_allocation(400 * 2**20, "x")
        except MemoryError:
            print("refused")
        """
    )
    out = subprocess.run([sys.executable, "-c", code, _resources.__file__], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "refused" in out.stdout
