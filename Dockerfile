# The calico-py node image: calico-node-py supervising felixpy, confdpy and BIRD 2, with
# calicoctl-py and the CNI plugins inside. Run it privileged on the host network (see
# docker-compose.yml), as Calico's calico/node.
FROM debian:12-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv bird2 iptables ipset iproute2 conntrack iputils-ping \
      containernetworking-plugins etcd-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/calico-py
COPY setup.cfg pyproject.toml README.md ./
COPY libcalico_py ./libcalico_py
COPY felixpy ./felixpy
COPY confdpy ./confdpy
COPY birdconf ./birdconf
COPY calicoctl_py ./calicoctl_py
COPY cni_py ./cni_py
COPY node_py ./node_py
COPY lab_py ./lab_py
RUN python3 -m venv /opt/calico-py/venv \
 && /opt/calico-py/venv/bin/pip install --no-cache-dir . \
 && ln -s /opt/calico-py/venv/bin/calico-node-py /opt/calico-py/venv/bin/calicoctl-py \
      /opt/calico-py/venv/bin/felixpy /opt/calico-py/venv/bin/confdpy /usr/local/bin/ 2>/dev/null || true

ENV PATH=/opt/calico-py/venv/bin:$PATH \
    CALICO_NETWORKING_BACKEND=bird \
    IP=autodetect \
    FELIX_HEALTHENABLED=true

HEALTHCHECK --interval=10s --timeout=5s CMD ["calico-node-py", "--check", "ready"]
ENTRYPOINT ["calico-node-py"]
