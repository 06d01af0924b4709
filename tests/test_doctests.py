import doctest

import pytest

from performance import money, scheduling


@pytest.mark.parametrize("module", [money, scheduling])
def test_module_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
