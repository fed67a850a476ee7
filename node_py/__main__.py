"""`calico-node-py`: register the node, install CNI, then supervise felixpy, confdpy, BIRD.

Environment (Calico's names): NODENAME, IP (autodetect|none|ADDR), IP_AUTODETECTION_METHOD,
AS, CALICO_IPV4POOL_CIDR, CALICO_IPV4POOL_BLOCK_SIZE, CALICO_IPV4POOL_NAT_OUTGOING,
NO_DEFAULT_POOLS, CALICO_NETWORKING_BACKEND (bird|none), ETCD_ENDPOINTS, ETCD_CA_CERT_FILE,
ETCD_CERT_FILE, ETCD_KEY_FILE, CNI_BIN_DIR, CNI_CONF_DIR, CNI_CONF_NAME, CNI_MTU, FELIX_*;
ours: CALICO_RUN_DIR, CALICO_STATE_DIR, CALICO_CONFD_DIR, CALICO_LOG_DIR.

`calico-node-py --check ready|live` exits 0 when felixpy (its /readiness or /liveness) and
BIRD (its control socket) answer, as `calico-node -felix-ready -bird-ready` does.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import urllib.request

from node_py.settings import NodeSettings


def _felix_env(s: NodeSettings) -> dict:
    env = dict(os.environ)
    env.update({"FELIX_DATASTORETYPE": "etcdv3", "FELIX_ETCDENDPOINTS": s.etcd_endpoints,
                "FELIX_FELIXHOSTNAME": s.nodename, "FELIX_HEALTHENABLED": "true"})
    for var, value in (("FELIX_ETCDCAFILE", s.etcd_ca_cert_file), ("FELIX_ETCDCERTFILE", s.etcd_cert_file),
                       ("FELIX_ETCDKEYFILE", s.etcd_key_file)):
        if value:
            env[var] = value
    env.update(s.felix_env)
    return env


def _children(s: NodeSettings) -> list:
    from node_py.supervisor import Child, bin_path
    os.makedirs(s.log_dir, exist_ok=True)
    env = dict(os.environ, NODENAME=s.nodename, ETCD_ENDPOINTS=s.etcd_endpoints)
    children = [Child("felixpy", [bin_path("felixpy")], _felix_env(s),
                      log_path=os.path.join(s.log_dir, "felix.log"))]
    if s.networking_backend == "bird":
        confd_args = ["--node", s.nodename, "--etcd-endpoints", s.etcd_endpoints,
                      "--confdir", s.confd_dir, "--bird-socket", s.bird_socket]
        children.append(Child("confdpy", [bin_path("confdpy"), *confd_args], env,
                              log_path=os.path.join(s.log_dir, "confd.log")))
        children.append(Child("bird", ["bird", "-f", "-c", os.path.join(s.confd_dir, "bird.cfg"),
                                       "-s", s.bird_socket, "-P", os.path.join(s.run_dir, "bird.pid")],
                              env, log_path=os.path.join(s.log_dir, "bird.log")))
    return children


def _render_bird_once(s: NodeSettings) -> None:
    """BIRD needs a config before it can start: render one synchronously first. The
    reload step of that render fails while BIRD is not running yet, which is expected;
    what matters is that a validated bird.cfg now exists."""
    from node_py.supervisor import bin_path
    p = subprocess.run([bin_path("confdpy"), "--onetime", "--node", s.nodename, "--etcd-endpoints",
                        s.etcd_endpoints, "--confdir", s.confd_dir, "--bird-socket", s.bird_socket],
                       env=dict(os.environ, NODENAME=s.nodename, ETCD_ENDPOINTS=s.etcd_endpoints),
                       capture_output=True, text=True)
    if not os.path.exists(os.path.join(s.confd_dir, "bird.cfg")):
        raise RuntimeError(f"confdpy could not render a BIRD configuration: {(p.stderr or p.stdout).strip()}")


def check(s: NodeSettings, what: str) -> int:
    problems = []
    port = s.felix_env.get("FELIX_HEALTHPORT", "9099")
    host = s.felix_env.get("FELIX_HEALTHHOST", "127.0.0.1")
    path = "readiness" if what == "ready" else "liveness"
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/{path}", timeout=2) as r:
            if r.status != 200:
                problems.append(f"felixpy /{path} answered {r.status}")
    except OSError as e:
        problems.append(f"felixpy /{path} unreachable: {e}")
    if s.networking_backend == "bird":
        from libcalico_py.birdctl import BirdClient
        try:
            BirdClient(s.bird_socket).show_status()
        except OSError as e:
            problems.append(f"BIRD socket {s.bird_socket}: {e}")
    from node_py.supervisor import STATUS_FILE, supervised_problems
    problems += supervised_problems(os.path.join(s.run_dir, STATUS_FILE))
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"calico-node-py is {'ready' if what == 'ready' else 'live'}")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="calico-node-py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", choices=["ready", "live"], help="health check and exit")
    parser.add_argument("--startup-only", action="store_true", help="register and install, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = NodeSettings.from_env()
    if args.check:
        return check(s, args.check)
    from libcalico_py.datastore.config import DatastoreConfig
    from libcalico_py.datastore.etcd import EtcdDatastore
    from libcalico_py.errors import CalicoError
    from node_py import cni_install, startup
    from node_py.autodetect import AutodetectError
    try:
        ds = EtcdDatastore(DatastoreConfig.from_env())
        startup.run(ds, s)
        cni_install.install(s)
    except (CalicoError, AutodetectError, OSError) as e:
        logging.getLogger("calico-node-py").error("startup failed: %s", e)
        return 1
    if args.startup_only:
        return 0
    os.makedirs(s.run_dir, exist_ok=True)
    if s.networking_backend == "bird":
        try:
            _render_bird_once(s)
        except RuntimeError as e:
            logging.getLogger("calico-node-py").error("%s", e)
            return 1
    from node_py.supervisor import STATUS_FILE, Supervisor
    return Supervisor(_children(s), os.path.join(s.run_dir, STATUS_FILE)).run()


if __name__ == "__main__":
    sys.exit(main())
