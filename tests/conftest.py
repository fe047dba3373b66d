import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models train and generate faster, and reproducibly, on one thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
