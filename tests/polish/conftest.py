import pytest


@pytest.fixture(scope="session")
def spiral_net():
    """A small 2-layer ReLU net trained on the spiral with Adam (float64), and its data."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from wedgenet.datasets import make_spiral

    X, y = make_spiral(60, random_state=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 24), nn.ReLU(), nn.Linear(24, 1), nn.Flatten(0)).double()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    lam = 1e-2
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(800):
        opt.zero_grad()
        f = model(Xt)
        obj = 0.5 * (f - yt).pow(2).sum() + lam / 2 * (model[0].weight.pow(2).sum() + model[2].weight.pow(2).sum())
        obj.backward()
        opt.step()
    return model, X, y, lam
