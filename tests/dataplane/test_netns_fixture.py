"""The namespace factory: real veth between two namespaces, real ping, and cleanup."""
from tests.fixtures.netns import list_netns


def test_veth_ping_and_cleanup(netns):
    a, b = netns("a"), netns("b")
    netns.veth(a, "va", b, "vb")
    netns.run(a, "ip", "addr", "add", "10.250.0.1/30", "dev", "va")
    netns.run(b, "ip", "addr", "add", "10.250.0.2/30", "dev", "vb")
    r = netns.run(a, "ping", "-c1", "-W1", "10.250.0.2", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    netns.cleanup()
    assert a not in list_netns() and b not in list_netns()
