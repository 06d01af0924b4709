import doctest

import pytest

from performance.appraisal import scheduling
from performance.common import failures, formatting, money, numbers


@pytest.mark.parametrize("module", [money, numbers, formatting, failures, scheduling])
def test_module_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
